"""RAdam (rectified Adam): ``torch.optim.RAdam``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _check_betas, _decayed_grad, _require_non_negative

__all__ = ["RAdam"]

# The variance of the adaptive learning rate is tractable once rho_t exceeds this
# (Liu et al., 2019); before, the step is plain momentum SGD.
RECTIFICATION_THRESHOLD = 5.0


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2019); the same algorithm, step for step, as
    ``torch.optim.RAdam``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-3).
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)` (default: (0.9, 0.999)).
        eps (float): :math:`\epsilon`, added to :math:`\sqrt{v_t}` (default: 1e-8).
        weight_decay (float): weight decay :math:`\lambda` (default: 0), an L2 penalty
            added to the gradient unless ``decoupled_weight_decay``.
        decoupled_weight_decay (bool): decay the weights directly, as AdamW does
            (default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`v_0 = 0`, with :math:`\rho_\infty = 2 / (1 - \beta_2) - 1`, at steps
    :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: with ``decoupled_weight_decay``,
       :math:`\theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)`; otherwise
       :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`m_t = m_{t-1} + (1 - \beta_1)(g_t - m_{t-1})`.
    4. :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`.
    5. :math:`\hat m_t = m_t / (1 - \beta_1^t)`, :math:`c_2 = 1 - \beta_2^t`.
    6. :math:`\rho_t = \rho_\infty - 2 t \beta_2^t / c_2`.
    7. If :math:`\rho_t > 5`: :math:`r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)
       \rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2) \rho_t}}` and
       :math:`\theta_t = \theta_{t-1} - \gamma \hat m_t r_t \frac{\sqrt{c_2}}
       {\sqrt{v_t} + \epsilon}`; otherwise :math:`\theta_t = \theta_{t-1} -
       \gamma \hat m_t`.

    State per parameter: ``step`` (:math:`t`), ``exp_avg`` (:math:`m_t`) and
    ``exp_avg_sq`` (:math:`v_t`).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay")
        _check_betas(h["betas"])

    def _step_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        hyper = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            _radam_update(param, grad, state["exp_avg"], state["exp_avg_sq"],
                          self._work_arrays(param, 2), step=state["step"], **hyper)


def _radam_update(param, grad, exp_avg, exp_avg_sq, work, *, step: int, lr: float,
                  beta1: float, beta2: float, eps: float, weight_decay: float,
                  decoupled_weight_decay: bool, maximize: bool) -> None:
    """One RAdam step on arrays, in place on ``param`` and the state arrays (see
    :class:`RAdam`'s steps). ``work`` holds two scratch arrays shaped like ``param``."""
    g = _decayed_grad(param, grad, lr=lr, weight_decay=weight_decay,       # steps 1-2
                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                      out=work[0])
    tmp = work[1]
    exp_avg += np.multiply(np.subtract(g, exp_avg, out=tmp), 1.0 - beta1, out=tmp)  # 3
    exp_avg_sq *= beta2                                                    # step 4
    exp_avg_sq += np.multiply(np.multiply(g, 1.0 - beta2, out=tmp), g, out=tmp)
    bias_correction1 = 1.0 - beta1 ** step                                 # step 5
    bias_correction2 = 1.0 - beta2 ** step
    rho_inf = 2.0 / (1.0 - beta2) - 1.0                                    # step 6
    rho_t = rho_inf - 2.0 * step * beta2 ** step / bias_correction2
    corrected = np.divide(exp_avg, bias_correction1, out=work[0])  # g is no longer needed
    corrected *= lr
    if rho_t > RECTIFICATION_THRESHOLD:                                    # step 7
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        denom = np.sqrt(exp_avg_sq, out=tmp)
        denom += eps
        adaptive = np.divide(bias_correction2 ** 0.5, denom, out=tmp)
        corrected *= adaptive
        corrected *= rect
    param -= corrected
