"""Adamax (Adam with the infinity norm): ``torch.optim.Adamax``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _check_betas, _effective_grad, _require_non_negative

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2014, section 7.1); the same algorithm, step for step, as
    ``torch.optim.Adamax``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 2e-3).
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`, the decay of the running
            average of the gradient and of the running maximum (default: (0.9, 0.999)).
        eps (float): :math:`\epsilon`, added to :math:`|g_t|` (default: 1e-8).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`u_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`m_t = m_{t-1} + (1 - \beta_1)(g_t - m_{t-1})`.
    4. :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)`.
    5. :math:`\theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \cdot
       \frac{m_t}{u_t}`.

    State per parameter: ``step`` (:math:`t`), ``exp_avg`` (:math:`m_t`) and ``exp_inf``
    (:math:`u_t`).
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay")
        _check_betas(h["betas"])

    def _step_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        hyper = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_inf"] = np.zeros_like(param)
            state["step"] += 1
            _adamax_update(param, grad, state["exp_avg"], state["exp_inf"],
                           self._work_arrays(param, 2), step=state["step"], **hyper)


def _adamax_update(param, grad, exp_avg, exp_inf, work, *, step: int, lr: float,
                   beta1: float, beta2: float, eps: float, weight_decay: float,
                   maximize: bool) -> None:
    """One Adamax step on arrays, in place on ``param`` and the state arrays (see
    :class:`Adamax`'s steps). ``work`` holds two scratch arrays shaped like ``param``."""
    g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])  # steps 1-2
    tmp = work[1]
    exp_avg += np.multiply(np.subtract(g, exp_avg, out=tmp), 1.0 - beta1, out=tmp)  # 3
    exp_inf *= beta2                                                       # step 4
    np.maximum(exp_inf, np.add(np.abs(g, out=tmp), eps, out=tmp), out=exp_inf)
    clr = lr / (1.0 - beta1 ** step)                                       # step 5
    param -= np.multiply(np.divide(exp_avg, exp_inf, out=tmp), clr, out=tmp)
