"""Adadelta: ``torch.optim.Adadelta``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _effective_grad, _require, _require_non_negative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012); the same algorithm, step for step, as
    ``torch.optim.Adadelta``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): :math:`\gamma`, which scales the delta (default: 1.0).
        rho (float): :math:`\rho`, the decay of both running averages (default: 0.9).
        eps (float): :math:`\epsilon`, added *inside* both square roots (default: 1e-6).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`v_0 = 0`,
    :math:`u_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`v_t = \rho v_{t-1} + (1 - \rho) g_t^2`.
    4. :math:`\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t`.
    5. :math:`u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2`.
    6. :math:`\theta_t = \theta_{t-1} - \gamma \Delta_t`.

    State per parameter: ``step`` (:math:`t`), ``square_avg`` (:math:`v_t`) and
    ``acc_delta`` (:math:`u_t`).
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay")
        _require(0.0 <= h["rho"] <= 1.0, "rho", h["rho"], "in [0, 1]")

    def _step_group(self, group: dict) -> None:
        hyper = dict(lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                     weight_decay=float(group["weight_decay"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                state["acc_delta"] = np.zeros_like(param)
            state["step"] += 1
            _adadelta_update(param, grad, state["square_avg"], state["acc_delta"],
                             self._work_arrays(param, 3), **hyper)


def _adadelta_update(param, grad, square_avg, acc_delta, work, *, lr: float, rho: float,
                     eps: float, weight_decay: float, maximize: bool) -> None:
    """One Adadelta step on arrays, in place on ``param`` and the state arrays (see
    :class:`Adadelta`'s steps). ``work`` holds three scratch arrays shaped like
    ``param``."""
    g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])  # steps 1-2
    std, delta = work[1], work[2]
    square_avg *= rho                                                      # step 3
    square_avg += np.multiply(np.multiply(g, 1.0 - rho, out=std), g, out=std)
    np.sqrt(np.add(square_avg, eps, out=std), out=std)                     # step 4
    np.sqrt(np.add(acc_delta, eps, out=delta), out=delta)
    delta /= std
    delta *= g
    acc_delta *= rho                                                       # step 5
    acc_delta += np.multiply(np.multiply(delta, 1.0 - rho, out=std), delta, out=std)
    param -= np.multiply(delta, lr, out=std)                               # step 6
