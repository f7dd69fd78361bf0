"""NAdam (Adam with Nesterov momentum): ``torch.optim.NAdam``."""

from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _check_betas, _check_fused, _decayed_grad,
                        _require_non_negative, fused_updates)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016) with its momentum-decay schedule; the same algorithm, step
    for step, as ``torch.optim.NAdam``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 2e-3).
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)` (default: (0.9, 0.999)).
        eps (float): :math:`\epsilon`, added to the denominator *after* the square root
            (default: 1e-8).
        weight_decay (float): weight decay :math:`\lambda` (default: 0), an L2 penalty
            added to the gradient unless ``decoupled_weight_decay``.
        momentum_decay (float): :math:`\psi` (default: 4e-3).
        decoupled_weight_decay (bool): decay the weights directly, as AdamW does
            (NAdamW; default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).
        fused (bool or None): one compiled pass over each parameter (numba, ``pip install
            "tinygrad_fm[fast]"``) with bit-identical results; None (the default) fuses
            when numba is importable, False never does, True requires numba.

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`v_0 = 0`, :math:`\Pi_0 = 1`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: with ``decoupled_weight_decay``,
       :math:`\theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda)`; otherwise
       :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. Momentum schedule: :math:`\mu_t = \beta_1 (1 - \tfrac12 \cdot 0.96^{t\psi})`,
       :math:`\mu_{t+1} = \beta_1 (1 - \tfrac12 \cdot 0.96^{(t+1)\psi})`.
    4. :math:`\Pi_t = \Pi_{t-1} \mu_t` (``mu_product``) and
       :math:`\Pi_{t+1} = \Pi_t \mu_{t+1}`.
    5. :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`.
    6. :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`.
    7. :math:`d_t = \sqrt{v_t / (1 - \beta_2^t)} + \epsilon`.
    8. :math:`\theta_t = \theta_{t-1}
       - \gamma \frac{1 - \mu_t}{1 - \Pi_t} \cdot \frac{g_t}{d_t}
       - \gamma \frac{\mu_{t+1}}{1 - \Pi_{t+1}} \cdot \frac{m_t}{d_t}`.

    State per parameter: ``step`` (:math:`t`), ``mu_product`` (:math:`\Pi_t`, a Python
    float; torch keeps it in a float32 scalar tensor, which differs by rounding only),
    ``exp_avg`` (:math:`m_t`) and ``exp_avg_sq`` (:math:`v_t`).
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 fused: bool | None = None):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay", "momentum_decay")
        _check_betas(h["betas"])
        _check_fused(h.get("fused"))

    def _step_group(self, group: dict) -> None:
        fused = self._fused(group)
        beta1, beta2 = group["betas"]
        hyper = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     momentum_decay=float(group["momentum_decay"]),
                     decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["mu_product"] = 1.0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            arrays = (param, grad, state["exp_avg"], state["exp_avg_sq"])
            if fused and fused_updates.fits(*arrays):
                state["mu_product"] = fused_updates.nadam(
                    *arrays, step=state["step"], mu_product=state["mu_product"], **hyper)
            else:
                state["mu_product"] = _nadam_update(
                    *arrays, self._work_arrays(param, 3), step=state["step"],
                    mu_product=state["mu_product"], **hyper)


def _nadam_update(param, grad, exp_avg, exp_avg_sq, work, *, step: int, mu_product: float,
                  lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                  momentum_decay: float, decoupled_weight_decay: bool,
                  maximize: bool) -> float:
    """One NAdam step on arrays, in place on ``param`` and the state arrays (see
    :class:`NAdam`'s steps); ``step`` is :math:`t` (from 1) and ``mu_product`` is
    :math:`\\Pi_{t-1}`. Returns :math:`\\Pi_t`. ``work`` holds three scratch arrays shaped
    like ``param``."""
    g = _decayed_grad(param, grad, lr=lr, weight_decay=weight_decay,       # steps 1-2
                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                      out=work[0])
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))             # step 3
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product = mu_product * mu                                           # step 4
    mu_product_next = mu_product * mu_next
    tmp = work[1]
    exp_avg += np.multiply(np.subtract(g, exp_avg, out=tmp), 1.0 - beta1, out=tmp)  # 5
    exp_avg_sq *= beta2                                                    # step 6
    exp_avg_sq += np.multiply(np.multiply(g, 1.0 - beta2, out=tmp), g, out=tmp)
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5                   # step 7
    # Steps 7-8 with sqrt(1 - beta2^t) multiplied through and both terms over one
    # division (the same value as torch's two addcdiv_ up to float rounding):
    #   theta -= (a * g + b * m) / (sqrt(v) + eps * sqrt(c2)),  a, b scaled by sqrt(c2)
    denom = np.sqrt(exp_avg_sq, out=tmp)
    denom += eps * bias_correction2_sqrt
    grad_factor = lr * (1.0 - mu) / (1.0 - mu_product) * bias_correction2_sqrt  # step 8
    avg_factor = lr * mu_next / (1.0 - mu_product_next) * bias_correction2_sqrt
    numerator = np.multiply(g, grad_factor, out=work[0])  # g may live in work[0]
    numerator += np.multiply(exp_avg, avg_factor, out=work[2])
    param -= np.divide(numerator, denom, out=work[0])
    return mu_product
