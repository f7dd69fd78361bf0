"""Adam and AdamW: ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

import numpy as np

from ..autograd import bump_version, no_grad

from .optimizer import (Optimizer, _check_betas, _check_fused, _decayed_grad,
                        _require_non_negative, fused_updates)

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
        fused (bool or None): one compiled pass over each parameter (numba, ``pip install
            "tinygrad_fm[fast]"``) instead of ten NumPy passes, with bit-identical results;
            None (the default) fuses when numba is importable, False never does, True
            requires numba.

    Algorithm, for each parameter :math:`\theta`, starting from :math:`m_0 = 0`,
    :math:`v_0 = 0`, :math:`v^{max}_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`
    4. :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`.
    5. If ``amsgrad``: :math:`v^{max}_t = \max(v^{max}_{t-1}, v_t)` and
       :math:`\hat v_t = v^{max}_t`; else :math:`\hat v_t = v_t`.
    6. Bias corrections :math:`c_1 = 1 - \beta_1^t`, :math:`c_2 = 1 - \beta_2^t`.
    7. :math:`\theta_t = \theta_{t-1} - \frac{\gamma}{c_1} \cdot
       \frac{m_t}{\sqrt{\hat v_t} / \sqrt{c_2} + \epsilon}`.

    State per parameter: ``step`` (:math:`t`) and the running averages, kept without
    their :math:`1 - \beta` factors as ``exp_avg_sum`` (:math:`m_t / (1 - \beta_1)`),
    ``exp_avg_sq_sum`` (:math:`v_t / (1 - \beta_2)`) and ``max_exp_avg_sq_sum`` (with
    ``amsgrad``), scaled by ``sum_beta1`` and ``sum_beta2``: then step 3 is
    :math:`m' \leftarrow \beta_1 m' + g_t` and step 4 :math:`v' \leftarrow \beta_2 v' +
    g_t^2`, two passes over memory fewer per step, and the factors fold into step 7's
    scalars. :meth:`state_dict` adds PyTorch's ``exp_avg``, ``exp_avg_sq`` and
    ``max_exp_avg_sq``; :meth:`load_state_dict` takes the sums when present (an exact
    resume) and converts PyTorch's entries otherwise.
    """

    _decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, fused: bool | None = None):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay")
        _check_betas(h["betas"])
        _check_fused(h.get("fused"))

    def _step_group(self, group: dict) -> None:
        fused = self._fused(group)
        beta1, beta2 = group["betas"]
        hyper = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     amsgrad=bool(group["amsgrad"]), maximize=bool(group["maximize"]),
                     decoupled_weight_decay=self._decoupled_weight_decay)
        beta1, beta2 = hyper["beta1"], hyper["beta2"]
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg_sum"] = np.zeros_like(param)
                state["exp_avg_sq_sum"] = np.zeros_like(param)
                if hyper["amsgrad"]:
                    state["max_exp_avg_sq_sum"] = np.zeros_like(param)
                state["sum_beta1"], state["sum_beta2"] = beta1, beta2
            elif state["sum_beta1"] != beta1 or state["sum_beta2"] != beta2:
                _rescale_sums(state, beta1, beta2)  # the betas changed since the last step
            state["step"] += 1
            arrays = (param, grad, state["exp_avg_sum"], state["exp_avg_sq_sum"],
                      state.get("max_exp_avg_sq_sum"))
            if fused and fused_updates.fits(*arrays):
                fused_updates.adam(*arrays, step=state["step"], **hyper)
            else:
                _adam_update(*arrays, self._work_arrays(param, 2), step=state["step"], **hyper)

    def _replay_call(self, function, args):
        """For :mod:`tinygrad_fm.jit`: ``step()`` as a function that a replayed training
        step calls, or None where the plain call is needed. It skips what the recorded
        steps settled (which parameters get gradients, their arrays, their state) and
        calls the fused kernel on flat views made once; the hyper-parameters, the
        learning rate included, are read from the groups at every call. Anything
        unusual (numba missing or not wanted, AMSGrad, changed betas, parameters or
        state replaced) takes the plain step, so the numbers are always step()'s."""
        if function is not Optimizer.step or args != (None,) or not fused_updates.available():
            return None
        state_of, kernel = self.state, fused_updates._load().adam
        plans = []
        for group in self.param_groups:
            entries = []
            for p in group["params"]:
                state = state_of.get(p)
                if p.grad is None or not state or "max_exp_avg_sq_sum" in state or \
                        not fused_updates.fits(p.data, state["exp_avg_sum"],
                                               state["exp_avg_sq_sum"]):
                    return None
                entries.append((p, p.data, state, p.data.reshape(-1),
                                state["exp_avg_sum"].reshape(-1),
                                state["exp_avg_sq_sum"].reshape(-1)))
            plans.append((group, entries))
        groups = self.param_groups
        decoupled = self._decoupled_weight_decay

        def step():
            if self.param_groups is not groups or self.state is not state_of:
                return Optimizer.step(self)
            self._opt_called = True
            for group, entries in plans:
                beta1, beta2 = group["betas"]
                if group["amsgrad"] or not self._fused(group):
                    with no_grad():
                        self._step_group(group)
                    continue
                grads = []
                for p, data, state, *_ in entries:
                    grad = p.grad
                    grad = None if grad is None else grad.data
                    if grad is None or p.data is not data or grad.dtype != data.dtype or \
                            not grad.flags.c_contiguous or grad.shape != data.shape or \
                            state["sum_beta1"] != beta1 or state["sum_beta2"] != beta2:
                        break
                    grads.append(grad.reshape(-1))
                else:
                    maximize = bool(group["maximize"])
                    lr, eps = float(group["lr"]), float(group["eps"])
                    weight_decay = float(group["weight_decay"])
                    scalars_of = None  # (step, dtype) -> the kernel's scalars
                    for (p, data, state, flat, exp_avg, exp_avg_sq), grad in zip(entries, grads):
                        bump_version(p)  # as step() does: p.data changes in place
                        state["step"] = t = state["step"] + 1
                        if scalars_of != (t, data.dtype):
                            scalars_of = (t, data.dtype)
                            scalars = fused_updates._adam_scalars(
                                data.dtype.type, t, lr, float(beta1), float(beta2), eps,
                                weight_decay, decoupled)
                        kernel(flat, grad, exp_avg, exp_avg_sq, exp_avg, False, maximize,
                               *scalars)
                    continue
                with no_grad():  # something changed: the plain step for this group
                    self._step_group(group)

        return step

    def _export_state(self, state: dict) -> dict:
        exported = dict(state)
        for name, factor in _AVERAGES:
            if name + "_sum" in state:
                exported[name] = state[name + "_sum"] * (1.0 - state["sum_" + factor])
        return exported

    def _import_state(self, state: dict, group: dict) -> dict:
        if "exp_avg_sum" in state:  # saved by tinygrad_fm: the sums themselves
            return {k: v for k, v in state.items() if k not in dict(_AVERAGES)}
        betas = dict(zip(("beta1", "beta2"), (float(b) for b in group["betas"])))
        imported = {"step": state["step"], "sum_beta1": betas["beta1"],
                    "sum_beta2": betas["beta2"]}
        for name, factor in _AVERAGES:  # saved by PyTorch: the averages
            if name in state:
                imported[name + "_sum"] = state[name] / (1.0 - betas[factor])
        return imported


# PyTorch's state entries and the beta whose (1 - beta) factor our sums leave out.
_AVERAGES = (("exp_avg", "beta1"), ("exp_avg_sq", "beta2"), ("max_exp_avg_sq", "beta2"))


def _rescale_sums(state: dict, beta1: float, beta2: float) -> None:
    """Re-express the running sums of ``state`` for new betas (the averages they stand
    for stay the same)."""
    state["exp_avg_sum"] *= (1.0 - state["sum_beta1"]) / (1.0 - beta1)
    for name in ("exp_avg_sq_sum", "max_exp_avg_sq_sum"):
        if name in state:
            state[name] *= (1.0 - state["sum_beta2"]) / (1.0 - beta2)
    state["sum_beta1"], state["sum_beta2"] = beta1, beta2


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
        fused (bool or None): as in :class:`Adam`.

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
                 maximize: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused)


def _adam_update(param, grad, exp_avg_sum, exp_avg_sq_sum, max_exp_avg_sq_sum, work, *,
                 step: int, lr: float, beta1: float, beta2: float, eps: float,
                 weight_decay: float, amsgrad: bool, maximize: bool,
                 decoupled_weight_decay: bool) -> None:
    """One Adam/AdamW step on arrays, in place on ``param`` and the running sums
    (:math:`m' = m / (1 - \beta_1)`, :math:`v' = v / (1 - \beta_2)`; see :class:`Adam`'s
    and :class:`AdamW`'s steps); ``step`` is :math:`t` (from 1). ``work`` holds two
    scratch arrays shaped like ``param``. Ten passes over memory without weight decay."""
    g = _decayed_grad(param, grad, lr=lr, weight_decay=weight_decay,       # steps 1-2
                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                      out=work[0])
    tmp = work[1]
    exp_avg_sum *= beta1                                                   # step 3
    exp_avg_sum += g
    exp_avg_sq_sum *= beta2                                                # step 4
    exp_avg_sq_sum += np.square(g, out=tmp)  # twice as fast as np.multiply(g, g)
    if amsgrad:                                                            # step 5
        v_hat = np.maximum(max_exp_avg_sq_sum, exp_avg_sq_sum, out=max_exp_avg_sq_sum)
    else:
        v_hat = exp_avg_sq_sum
    bias_correction1 = 1.0 - beta1 ** step                                 # step 6
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    # Step 7 with m = (1 - beta1) m' and sqrt(v) = sqrt(1 - beta2) sqrt(v') folded into
    # two scalars (the same value as torch's expression up to float rounding):
    #   theta -= factor * m' / (sqrt(v') + eps'),
    #   factor = lr (1 - beta1) sqrt(c2) / (c1 sqrt(1 - beta2)),
    #   eps' = eps sqrt(c2) / sqrt(1 - beta2)
    sum_scale = (1.0 - beta2) ** 0.5
    denom = np.sqrt(v_hat, out=tmp)
    denom += eps * bias_correction2_sqrt / sum_scale
    update = np.divide(exp_avg_sum, denom, out=tmp)
    update *= lr * (1.0 - beta1) * bias_correction2_sqrt / (bias_correction1 * sum_scale)
    param -= update
