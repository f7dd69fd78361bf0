"""Adam and AdamW: ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _check_betas, _effective_grad, _require

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), optionally AMSGrad; the same algorithm, step for step,
    as ``torch.optim.Adam``. Weight decay is an L2 penalty added to the gradient (for
    decoupled weight decay use :class:`AdamW`).

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-3).
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`, the decay rates of the
            running averages of the gradient and of its square (default: (0.9, 0.999)).
        eps (float): :math:`\epsilon`, added to the denominator *after* the square root
            and the bias correction (default: 1e-8).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`v_0 = 0`, :math:`v^{max}_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`
       (computed as :math:`m_{t-1} + (1 - \beta_1)(g_t - m_{t-1})`, like torch's lerp).
    4. :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`.
    5. If ``amsgrad``: :math:`v^{max}_t = \max(v^{max}_{t-1}, v_t)` and
       :math:`\hat v_t = v^{max}_t`; else :math:`\hat v_t = v_t`.
    6. Bias corrections :math:`c_1 = 1 - \beta_1^t`, :math:`c_2 = 1 - \beta_2^t`.
    7. :math:`\theta_t = \theta_{t-1} - \frac{\gamma}{c_1} \cdot
       \frac{m_t}{\sqrt{\hat v_t} / \sqrt{c_2} + \epsilon}`.

    State per parameter: ``step`` (:math:`t`), ``exp_avg`` (:math:`m_t`),
    ``exp_avg_sq`` (:math:`v_t`) and ``max_exp_avg_sq`` (:math:`v^{max}_t`, with
    ``amsgrad``).
    """

    _decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require(0.0 <= h["lr"], "learning rate (lr)", h["lr"], ">= 0")
        _check_betas(h["betas"])
        _require(0.0 <= h["eps"], "eps", h["eps"], ">= 0")
        _require(0.0 <= h["weight_decay"], "weight_decay", h["weight_decay"], ">= 0")

    def _step_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        hyper = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     amsgrad=bool(group["amsgrad"]), maximize=bool(group["maximize"]),
                     decoupled_weight_decay=self._decoupled_weight_decay)
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
                if hyper["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            _adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"],
                         state.get("max_exp_avg_sq"), self._work_arrays(param, 2),
                         step=state["step"], **hyper)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2017): Adam with *decoupled* weight decay; the same
    algorithm, step for step, as ``torch.optim.AdamW``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-3).
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)` (default: (0.9, 0.999)).
        eps (float): :math:`\epsilon`, added to the denominator *after* the square root
            and the bias correction (default: 1e-8).
        weight_decay (float): decoupled weight decay :math:`\lambda` (default: 1e-2).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`v_0 = 0`, :math:`v^{max}_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. :math:`\theta_{t-1} \leftarrow \theta_{t-1} (1 - \gamma \lambda)` (the gradient
       and the moments never see the decay).
    3. :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`.
    4. :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`.
    5. If ``amsgrad``: :math:`v^{max}_t = \max(v^{max}_{t-1}, v_t)` and
       :math:`\hat v_t = v^{max}_t`; else :math:`\hat v_t = v_t`.
    6. Bias corrections :math:`c_1 = 1 - \beta_1^t`, :math:`c_2 = 1 - \beta_2^t`.
    7. :math:`\theta_t = \theta_{t-1} - \frac{\gamma}{c_1} \cdot
       \frac{m_t}{\sqrt{\hat v_t} / \sqrt{c_2} + \epsilon}`.

    State per parameter: as :class:`Adam`.
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


def _adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, work, *, step: int,
                 lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                 amsgrad: bool, maximize: bool, decoupled_weight_decay: bool) -> None:
    """One Adam/AdamW step on arrays, in place on ``param`` and the state arrays (see
    :class:`Adam`'s and :class:`AdamW`'s steps); ``step`` is :math:`t` (from 1).
    ``work`` holds two scratch arrays shaped like ``param``."""
    if decoupled_weight_decay:                                             # steps 1-2
        if weight_decay != 0:
            param *= 1.0 - lr * weight_decay
        g = _effective_grad(param, grad, 0.0, maximize, out=work[0])
    else:
        g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])
    tmp = work[1]
    exp_avg += np.multiply(np.subtract(g, exp_avg, out=tmp), 1.0 - beta1, out=tmp)  # 3
    exp_avg_sq *= beta2                                                    # step 4
    exp_avg_sq += np.multiply(np.multiply(g, 1.0 - beta2, out=tmp), g, out=tmp)
    if amsgrad:                                                            # step 5
        v_hat = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    else:
        v_hat = exp_avg_sq
    bias_correction1 = 1.0 - beta1 ** step                                 # step 6
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    step_size = lr / bias_correction1
    # Step 7, with sqrt(c2) multiplied through (one array division fewer than torch's
    # (sqrt(v_hat) / sqrt(c2) + eps); the same value up to float rounding):
    #   theta -= (step_size * sqrt(c2)) * m / (sqrt(v_hat) + eps * sqrt(c2))
    denom = np.sqrt(v_hat, out=tmp)
    denom += eps * bias_correction2_sqrt
    factor = step_size * bias_correction2_sqrt
    param -= np.divide(np.multiply(exp_avg, factor, out=work[0]), denom, out=tmp)
