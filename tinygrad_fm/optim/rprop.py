"""Rprop (resilient backpropagation): ``torch.optim.Rprop``."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _effective_grad, _require, _require_non_negative

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, 1993): a per-element step size that grows while the
    gradient keeps its sign and shrinks when it flips; the same algorithm, step for step,
    as ``torch.optim.Rprop``. Meant for full-batch training.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): the initial step size :math:`\eta_0` of every element (default: 1e-2).
        etas (tuple[float, float]): :math:`(\eta^-, \eta^+)`, the factors that shrink and
            grow the step size, with :math:`0 < \eta^- < 1 < \eta^+` (default: (0.5, 1.2)).
        step_sizes (tuple[float, float]): :math:`(\Gamma_{min}, \Gamma_{max})`, the bounds
            of the step size (default: (1e-6, 50)).
        maximize (bool): maximize the objective instead of minimizing (default: False).

    Algorithm, for each element of each parameter :math:`\theta`, starting from
    :math:`g_0 = 0` and :math:`\eta_0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. :math:`s = \eta^+` if :math:`g_t g_{t-1} > 0`, :math:`\eta^-` if
       :math:`g_t g_{t-1} < 0`, else 1.
    3. :math:`\eta_t = \min(\max(s \, \eta_{t-1}, \Gamma_{min}), \Gamma_{max})`.
    4. Where the sign flipped (:math:`s = \eta^-`): :math:`g_t \leftarrow 0` (no move
       now, and no flip seen at the next step).
    5. :math:`\theta_t = \theta_{t-1} - \eta_t \operatorname{sign}(g_t)`.

    State per parameter: ``step`` (:math:`t`), ``prev`` (:math:`g_t` after step 4) and
    ``step_size`` (:math:`\eta_t`).
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, maximize: bool = False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr")
        etaminus, etaplus = h["etas"]
        _require(0.0 < etaminus < 1.0 < etaplus, "etas", h["etas"],
                 "a pair (etaminus, etaplus) with 0 < etaminus < 1 < etaplus")

    def _step_group(self, group: dict) -> None:
        etaminus, etaplus = (float(eta) for eta in group["etas"])
        step_size_min, step_size_max = (float(size) for size in group["step_sizes"])
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["prev"] = np.zeros_like(param)
                state["step_size"] = np.full_like(param, float(group["lr"]))
            state["step"] += 1
            _rprop_update(param, grad, state["prev"], state["step_size"],
                          self._work_arrays(param, 2), etaminus=etaminus, etaplus=etaplus,
                          step_size_min=step_size_min, step_size_max=step_size_max,
                          maximize=bool(group["maximize"]))


def _rprop_update(param, grad, prev, step_size, work, *, etaminus: float, etaplus: float,
                  step_size_min: float, step_size_max: float, maximize: bool) -> None:
    """One Rprop step on arrays, in place on ``param`` and the state arrays (see
    :class:`Rprop`'s steps). ``work`` holds two scratch arrays shaped like ``param``."""
    g = _effective_grad(param, grad, 0.0, maximize, out=work[0])           # step 1
    agreement = np.multiply(g, prev, out=work[1])                          # step 2
    flipped = agreement < 0
    factor = np.where(agreement > 0, etaplus, np.where(flipped, etaminus, 1.0))
    step_size *= factor.astype(step_size.dtype, copy=False)                # step 3
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    np.copyto(prev, g)                                                     # step 4
    prev[flipped] = 0
    param -= np.multiply(np.sign(prev, out=work[1]), step_size, out=work[1])  # step 5
