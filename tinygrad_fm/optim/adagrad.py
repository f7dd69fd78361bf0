"""Adagrad: ``torch.optim.Adagrad``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _effective_grad, _require, _require_non_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011); the same algorithm, step for step, as
    ``torch.optim.Adagrad``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-2).
        lr_decay (float): learning-rate decay :math:`\eta` (default: 0).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        initial_accumulator_value (float): the starting value :math:`s_0` of the sum of
            squared gradients (default: 0).
        eps (float): :math:`\epsilon`, added to the denominator *after* the square root
            (default: 1e-10).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each parameter :math:`\theta`, starting from :math:`s_0` (every
    element), at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`\tilde\gamma = \gamma / (1 + (t - 1) \eta)`.
    4. :math:`s_t = s_{t-1} + g_t^2`.
    5. :math:`\theta_t = \theta_{t-1} - \tilde\gamma \, g_t / (\sqrt{s_t} + \epsilon)`.

    State per parameter: ``step`` (:math:`t`) and ``sum`` (:math:`s_t`). As in PyTorch,
    the state exists from construction (``step`` 0, ``sum`` :math:`s_0`), so a state
    dict taken before the first step already holds it.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": 0,
                             "sum": np.full_like(p.data,
                                                 group["initial_accumulator_value"])}

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay", "lr_decay")
        _require(0.0 <= h["initial_accumulator_value"], "initial_accumulator_value",
                 h["initial_accumulator_value"], ">= 0")

    def _step_group(self, group: dict) -> None:
        hyper = dict(lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                     weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            state["step"] += 1
            _adagrad_update(param, grad, state["sum"], self._work_arrays(param, 2),
                            step=state["step"], **hyper)


def _adagrad_update(param, grad, state_sum, work, *, step: int, lr: float, lr_decay: float,
                    weight_decay: float, eps: float, maximize: bool) -> None:
    """One Adagrad step on arrays, in place on ``param`` and ``state_sum`` (see
    :class:`Adagrad`'s steps). ``work`` holds two scratch arrays shaped like ``param``."""
    g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])  # steps 1-2
    clr = lr / (1 + (step - 1) * lr_decay)                                 # step 3
    tmp = work[1]
    state_sum += np.multiply(g, g, out=tmp)                                # step 4
    std = np.sqrt(state_sum, out=tmp)                                      # step 5
    std += eps
    param -= np.multiply(np.divide(g, std, out=tmp), clr, out=tmp)
