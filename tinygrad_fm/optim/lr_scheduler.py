"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s semantics.

Call ``scheduler.step()`` once after each ``optimizer.step()`` (per epoch or per batch,
as the schedule is defined); ``ReduceLROnPlateau`` is stepped with the monitored value,
``scheduler.step(val_loss)``. Constructing a scheduler stores each group's current ``lr``
as ``group["initial_lr"]`` (the schedule's base) and sets the learning rates for epoch 0.

To resume: build the optimizer and the scheduler as before, then load the optimizer's
state dict and the scheduler's (``scheduler.load_state_dict`` after constructing it;
the optimizer's learning rates come back with the optimizer's state dict).
"""

from __future__ import annotations

import copy
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .. import _recording
from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "LinearLR",
    "PolynomialLR",
    "OneCycleLR",
    "CyclicLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
]


class LRScheduler:
    """Base class of learning-rate schedulers.

    Subclasses implement :meth:`get_lr`, which computes the learning rates for epoch
    ``last_epoch`` (already advanced by :meth:`step`), usually from the groups' current
    ``lr`` (chainable form), and optionally ``_get_closed_form_lr`` (from ``base_lrs``),
    used by the deprecated ``step(epoch)``.

    Args:
        optimizer: the optimizer whose ``param_groups[i]["lr"]`` are scheduled.
        last_epoch: the index of the last epoch; -1 (default) starts the schedule. Other
            values are for resuming and need ``initial_lr`` in every group.

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: the number of :meth:`step` calls since the schedule started.
    """

    _is_initial = False  # True during the step() that the constructor makes
    _epoch_is_deprecated = True  # step(epoch) warns, except where the schedule uses it
    _unsaved = ("optimizer",)  # attributes that state_dict() leaves out

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self.optimizer = _check_optimizer(optimizer)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in "
                                   f"param_groups[{i}] when resuming a scheduler with "
                                   f"last_epoch={last_epoch}; load the optimizer's state "
                                   "dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and make the first step (epoch ``last_epoch + 1``)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The learning rates for epoch ``last_epoch``, one per parameter group."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The learning rates that the last :meth:`step` set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one epoch (call after ``optimizer.step()``).

        ``epoch`` (deprecated, as in PyTorch) jumps to that epoch using the closed form
        where the scheduler has one.
        """
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(LRScheduler.step, self, epoch)
        if self._step_count == 1 and self.optimizer._opt_called is False:
            warnings.warn("Detected call of `lr_scheduler.step()` before "
                          "`optimizer.step()`; call them in the opposite order, or the "
                          "first value of the learning-rate schedule is skipped.",
                          UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None and self._epoch_is_deprecated:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated; "
                          "call `scheduler.step()` without it.", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set the groups' learning rates for the next epoch, or for ``epoch`` (closed
        form where the scheduler has one)."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (plain Python values, copied)."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                if key not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by :meth:`state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _group_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    r"""Multiply each group's learning rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_t = \eta_0 \gamma^{\lfloor t / \text{step\_size} \rfloor}`.

    Args:
        optimizer: the wrapped optimizer.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if not step_size >= 1:
            raise ValueError(f"Invalid step_size value: {step_size!r} (it must be >= 1)")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply each group's learning rate by ``gamma`` every epoch:
    :math:`\eta_t = \eta_0 \gamma^t`.

    Args:
        optimizer: the wrapped optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from each group's initial learning rate :math:`\eta_{max}` to
    ``eta_min`` over ``T_max`` epochs (SGDR without restarts):

    .. math::
        \eta_t = \eta_{min} + \tfrac12 (\eta_{max} - \eta_{min})
                 \left(1 + \cos\left(\frac{t \pi}{T_{max}}\right)\right)

    Computed, as PyTorch does, with the recursive form
    :math:`\eta_{t} = \eta_{min} + (\eta_{t-1} - \eta_{min})
    \frac{1 + \cos(t\pi/T_{max})}{1 + \cos((t-1)\pi/T_{max})}` (so it composes with
    other changes to ``lr``); past ``T_max`` the learning rate rises again along the
    cosine.

    Args:
        optimizer: the wrapped optimizer.
        T_max (int): the number of epochs of the half cosine.
        eta_min (float): the minimum learning rate (default: 0).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if not T_max > 0:
            raise ValueError(f"Invalid T_max value: {T_max!r} (it must be > 0)")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if self._step_count == 1 and t > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._group_lrs())]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - eta_min) + eta_min
                for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Multiply each group's initial learning rate by a factor that moves linearly from
    ``start_factor`` to ``end_factor`` over ``total_iters`` epochs, then stays:
    :math:`\eta_t = \eta_0 (s + (e - s) \min(t, T) / T)`.

    Computed, as PyTorch does, in chainable (recursive) form.

    Args:
        optimizer: the wrapped optimizer.
        start_factor (float): the factor at epoch 0, in (0, 1] (default: 1/3).
        end_factor (float): the factor from epoch ``total_iters`` on, in [0, 1]
            (default: 1.0).
        total_iters (int): the number of epochs of the ramp (default: 5).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"Invalid start_factor value: {start_factor!r} (it must be "
                             "in (0, 1])")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"Invalid end_factor value: {end_factor!r} (it must be "
                             "in [0, 1])")
        if not total_iters >= 1:
            raise ValueError(f"Invalid total_iters value: {total_iters!r} (it must be >= 1)")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        s, e, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [lr * s for lr in self._group_lrs()]
        if self._is_initial or t > T:
            return self._group_lrs()
        return [lr * (1.0 + (e - s) / (T * s + (t - 1) * (e - s)))
                for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (s + (e - s) * min(T, self.last_epoch) / T)
                for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay each group's initial learning rate polynomially to 0 over ``total_iters``
    epochs, then keep it: :math:`\eta_t = \eta_0 (1 - \min(t, T) / T)^{p}`.

    Computed, as PyTorch does, in chainable (recursive) form.

    Args:
        optimizer: the wrapped optimizer.
        total_iters (int): the number of epochs of the decay (default: 5).
        power (float): the power :math:`p` of the polynomial (default: 1.0).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1):
        if not total_iters >= 1:
            raise ValueError(f"Invalid total_iters value: {total_iters!r} (it must be >= 1)")
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:
            return self._group_lrs()
        factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * factor for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        T = self.total_iters
        return [base_lr * (1.0 - min(T, self.last_epoch) / T) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter, 2017): within a
    cycle of :math:`T_i` epochs, :math:`\eta = \eta_{min} + \tfrac12 (\eta_0 -
    \eta_{min})(1 + \cos(\pi T_{cur} / T_i))`; then it restarts at :math:`\eta_0`, the
    next cycle ``T_mult`` times longer (:math:`T_0` first).

    ``step(epoch)`` takes fractional epochs (``scheduler.step(epoch + i / iters)`` per
    batch), as PyTorch's does, without the deprecation warning of other schedulers.

    Args:
        optimizer: the wrapped optimizer.
        T_0 (int): the length of the first cycle, in epochs.
        T_mult (int): the factor by which each cycle is longer than the last
            (default: 1).
        eta_min (float): the minimum learning rate (default: 0).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    _epoch_is_deprecated = False

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min!r} of type "
                             f"{type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def _update_lr(self, epoch=None) -> None:
        """PyTorch's bookkeeping: without ``epoch`` one more epoch of the cycle (and a
        restart at its end); with it, the cycle and position that ``epoch`` falls in."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._group_lrs()


class _LambdaScheduler(LRScheduler):
    """Shared by :class:`LambdaLR` and :class:`MultiplicativeLR`: one function per group,
    and a state dict without the functions (as in PyTorch, a plain function or lambda is
    not saved; the attributes of a callable object are)."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        _check_optimizer(optimizer)
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}: "
                                 f"give one function for all groups or a list with one "
                                 f"per parameter group")
            lr_lambdas = list(lr_lambda)
        else:
            lr_lambdas = [lr_lambda] * n_groups
        for fn in lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function of the epoch, but got "
                                f"{type(fn).__name__}")
        self.lr_lambdas = lr_lambdas
        super().__init__(optimizer, last_epoch)

    _unsaved = ("optimizer", "lr_lambdas")

    def state_dict(self) -> dict:
        """Every attribute except the optimizer; ``lr_lambdas`` holds, for each group,
        ``None`` for a plain function or the attributes of a callable object."""
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
            else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by :meth:`state_dict`; the functions stay the ones
        given to the constructor (callable objects get their saved attributes back)."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(f"the state dict has {len(saved)} lr_lambdas, this scheduler "
                             f"has {len(self.lr_lambdas)}: load it into a scheduler built "
                             "for the same parameter groups")
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(copy.deepcopy(attributes))


class LambdaLR(_LambdaScheduler):
    r"""Set each group's learning rate to its initial one times ``lr_lambda(epoch)``:
    :math:`\eta_t = \eta_0 \lambda(t)`.

    Args:
        optimizer: the wrapped optimizer.
        lr_lambda (callable or list): a function of the epoch (an int) giving the
            multiplicative factor, or a list of such functions, one per parameter group.
        last_epoch (int): the index of the last epoch (default: -1).

    ``state_dict()`` does not hold plain functions or lambdas (as in PyTorch): build the
    scheduler with the same functions before ``load_state_dict``.
    """

    def get_lr(self) -> list:
        return [base_lr * fn(self.last_epoch)
                for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    r"""Multiply each group's current learning rate by ``lr_lambda(epoch)`` at every
    epoch after the first: :math:`\eta_t = \eta_{t-1} \lambda(t)`.

    Args:
        optimizer: the wrapped optimizer.
        lr_lambda (callable or list): a function of the epoch (an int) giving the
            factor, or a list of such functions, one per parameter group.
        last_epoch (int): the index of the last epoch (default: -1).

    ``state_dict()`` does not hold plain functions or lambdas (as in PyTorch).
    """

    def get_lr(self) -> list:
        if self._is_initial:
            return self._group_lrs()
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class MultiStepLR(LRScheduler):
    r"""Multiply each group's learning rate by ``gamma`` at each of the ``milestones``
    (epoch indices; a milestone listed ``n`` times multiplies by ``gamma ** n``):
    :math:`\eta_t = \eta_0 \gamma^{\#\{m \le t\}}`.

    Args:
        optimizer: the wrapped optimizer.
        milestones (iterable of int): the epochs at which to decay, increasing.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        try:
            self.milestones = Counter(milestones)
        except TypeError:
            raise TypeError(f"milestones must be an iterable of epoch indices (e.g. "
                            f"[30, 80]), got {type(milestones).__name__}") from None
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch]
                for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""Multiply each group's learning rate by ``factor`` for the first ``total_iters``
    epochs, then restore it: :math:`\eta_t = \eta_0 f` for :math:`t < T`, else
    :math:`\eta_0`.

    Computed, as PyTorch does, in chainable form (the factor is applied at epoch 0 and
    divided out at epoch ``total_iters``).

    Args:
        optimizer: the wrapped optimizer.
        factor (float): the factor, in [0, 1] (default: 1/3).
        total_iters (int): the number of epochs it applies (default: 5).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 <= factor <= 1:
            raise ValueError(f"Invalid factor value: {factor!r} (the constant "
                             "multiplicative factor must be in [0, 1])")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters)
                           * (1 - self.factor))
                for base_lr in self.base_lrs]


class _CyclesMomentum:
    """Shared by :class:`OneCycleLR` and :class:`CyclicLR`: momentum (or Adam's
    ``betas[0]``) cycled inversely to the learning rate, between each group's
    ``base_momentum`` and ``max_momentum``."""

    def _start_momentum_cycle(self, optimizer: Optimizer, base_momentum, max_momentum,
                              last_epoch: int) -> tuple:
        """Check the optimizer has a momentum, record the bounds in each group and (on a
        fresh start) set the momentum to its maximum; returns (base, max) per group."""
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError("optimizer must support momentum or beta1 with "
                             "`cycle_momentum` option enabled")
        self.use_beta1 = "betas" in optimizer.defaults
        max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        if last_epoch == -1:
            for group, m_max, m_base in zip(optimizer.param_groups, max_momentums,
                                            base_momentums):
                self._set_momentum(group, m_max)
                group["max_momentum"] = m_max
                group["base_momentum"] = m_base
        return base_momentums, max_momentums

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class CyclicLR(_CyclesMomentum, LRScheduler):
    r"""Cyclical learning rates (Smith, 2017): each group's learning rate goes from
    ``base_lr`` up to ``max_lr`` over ``step_size_up`` steps and back over
    ``step_size_down``, again and again; stepped after every batch, as PyTorch's.

    With :math:`c = \lfloor 1 + t / T \rfloor` (the cycle, from 1; :math:`T` = up + down
    steps), :math:`x = 1 + t / T - c` and the rising fraction :math:`r = up / T`, the
    height is :math:`h = x / r` while rising and :math:`(x - 1) / (r - 1)` while falling,
    and :math:`\eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, h\, s`, where the
    scale :math:`s` is 1 (``"triangular"``), :math:`1 / 2^{c - 1}` (``"triangular2"``),
    :math:`\gamma^t` (``"exp_range"``) or ``scale_fn`` of :math:`c` or of :math:`t`
    (``scale_mode`` ``"cycle"`` or ``"iterations"``). Momentum, when cycled, moves the
    other way: :math:`m_{max} - (m_{max} - m_{base})\, h\, s`.

    Args:
        optimizer: the wrapped optimizer.
        base_lr (float or list): the lowest learning rate of each group.
        max_lr (float or list): the highest learning rate of each group.
        step_size_up (int): steps of the rising half (default: 2000).
        step_size_down (int or None): steps of the falling half (default: as up).
        mode (str): ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma (float): the base of ``"exp_range"``'s scale (default: 1.0).
        scale_fn (callable or None): a custom scale, replacing ``mode``'s.
        scale_mode (str): what ``scale_fn`` takes: ``"cycle"`` or ``"iterations"``.
        cycle_momentum (bool): cycle ``momentum`` (or ``betas[0]``) too (default: True).
        base_momentum (float or list): lowest momentum (default: 0.8).
        max_momentum (float or list): highest momentum (default: 0.9).
        last_epoch (int): the index of the last batch (default: -1).
    """

    _unsaved = ("optimizer", "_scale_fn_custom")  # a function: kept by the live object

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9,
                 last_epoch: int = -1):
        self.optimizer = _check_optimizer(optimizer)
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else \
            step_size_up
        if not (step_size_up > 0 and step_size_down >= 0):
            raise ValueError(f"Invalid step sizes: step_size_up={step_size_up} must be > 0 "
                             f"and step_size_down={step_size_down} >= 0")
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"mode is invalid and scale_fn is None: mode must be "
                             f"'triangular', 'triangular2' or 'exp_range', got {mode!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else \
            ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = self._start_momentum_cycle(
                optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x) -> float:
        """The scale of cycle (or step) ``x``: ``scale_fn`` or ``mode``'s."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * height * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, m_base, m_max in zip(self.optimizer.param_groups, self.base_momentums,
                                            self.max_momentums):
                self._set_momentum(group, m_max - (m_max - m_base) * height * scale)
        return lrs


class OneCycleLR(_CyclesMomentum, LRScheduler):
    r"""The 1cycle policy (Smith & Topin, 2017): per batch, the learning rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of the steps, then
    anneals to ``initial_lr / final_div_factor``; momentum (or Adam's ``beta1``) is
    cycled inversely between ``max_momentum`` and ``base_momentum``.

    With ``three_phase=True`` the rise is mirrored (back down to ``initial_lr`` at step
    ``2 * pct_start * total_steps - 2``) before a last phase anneals to the minimum.

    Phases (as in PyTorch), with :math:`p = (t - \text{start}) / (\text{end} - \text{start})`
    within each phase and ``anneal(a, b, p)`` either
    :math:`b + (a - b)(1 + \cos(\pi p)) / 2` (``"cos"``) or :math:`a + (b - a) p`
    (``"linear"``):

    1. up to step ``pct_start * total_steps - 1``: ``initial_lr -> max_lr``,
       momentum ``max_momentum -> base_momentum``;
    2. (two-phase) up to ``total_steps - 1``: ``max_lr -> min_lr``,
       momentum ``base_momentum -> max_momentum``.

    Args:
        optimizer: the wrapped optimizer.
        max_lr (float or list): peak learning rate(s), one per group.
        total_steps (int): the number of steps in the cycle; or give ``epochs`` and
            ``steps_per_epoch``.
        epochs (int), steps_per_epoch (int): ``total_steps = epochs * steps_per_epoch``.
        pct_start (float): fraction of the cycle spent increasing the lr (default: 0.3).
        anneal_strategy (str): ``"cos"`` (default) or ``"linear"``.
        cycle_momentum (bool): cycle ``momentum`` (or ``betas[0]``) too (default: True).
        base_momentum (float or list): lowest momentum (default: 0.85).
        max_momentum (float or list): highest momentum (default: 0.95).
        div_factor (float): ``initial_lr = max_lr / div_factor`` (default: 25).
        final_div_factor (float): ``min_lr = initial_lr / final_div_factor``
            (default: 1e4).
        three_phase (bool): use the three-phase schedule (default: False).
        last_epoch (int): the index of the last batch (default: -1).

    Stepping more than ``total_steps`` times raises ``ValueError``.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        self.optimizer = _check_optimizer(optimizer)
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got "
                                 f"{total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs!r}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR "
                             "(epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead "
                             f"got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * self.total_steps) - 1,
                     start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2,
                     start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1,
                     start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * self.total_steps) - 1,
                     start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1,
                     start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._start_momentum_cycle(optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total "
                             f"steps is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == last:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]],
                                            group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]],
                            pct))
                    break
                start_step = end_step
        return lrs


class _WrapsSchedulers(LRScheduler):
    """A scheduler over other schedulers (``_schedulers``): its state dict holds theirs."""

    _unsaved = ("optimizer", "_schedulers")

    def state_dict(self) -> dict:
        """Every attribute except the optimizer, with the schedulers' state dicts."""
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore this scheduler's attributes and each wrapped scheduler's state."""
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        if len(saved) != len(self._schedulers):
            raise ValueError(f"the state dict holds {len(saved)} schedulers, this "
                             f"{type(self).__name__} has {len(self._schedulers)}: build it "
                             "with the same schedulers before loading")
        super().load_state_dict(state)
        for scheduler, scheduler_state in zip(self._schedulers, saved):
            scheduler.load_state_dict(scheduler_state)


class SequentialLR(_WrapsSchedulers):
    r"""Run ``schedulers`` one after another, switching at the epochs in ``milestones``
    (``len(milestones) == len(schedulers) - 1``).

    At construction the groups' learning rates go back to their ``initial_lr``, the
    schedulers' construction steps are undone and the first scheduler makes its first
    step; at milestone ``m`` the next scheduler starts from its epoch 0 (closed form
    where it has one), as in PyTorch.

    Args:
        optimizer: the wrapped optimizer (every scheduler must hold this one).
        schedulers (list): the schedulers, in order (not :class:`ReduceLROnPlateau`).
        milestones (list of int): the epochs at which to switch to the next scheduler.
        last_epoch (int): the index of the last epoch (default: -1).

    ``state_dict()`` holds the schedulers' state dicts under ``"_schedulers"``.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1):
        _check_optimizer(optimizer)
        _check_wrapped_schedulers(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided "
                             "to be one more than the number of milestone points, but got "
                             f"number of schedulers {len(schedulers)} and the number of "
                             f"milestones to be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Take back the step that each (nested) scheduler made when it was built."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self) -> None:  # no deprecated epoch argument, as in PyTorch
        """Advance by one epoch, stepping the scheduler whose interval holds it."""
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(SequentialLR.step, self)
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _check_wrapped_schedulers(owner: str, optimizer: Optimizer, schedulers) -> None:
    """The schedulers that SequentialLR / ChainedScheduler wrap: at least one, none a
    ReduceLROnPlateau, all of ``optimizer``."""
    if len(schedulers) < 1:
        raise ValueError(f"{owner} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner}: the scheduler at index {i} "
                            f"({type(scheduler).__name__}) should have `optimizer` as "
                            "its attribute; give learning-rate schedulers")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling "
                             f"`step`, but got one at index {i} in the given schedulers "
                             "sequence.")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same "
                             f"optimizer, but got scheduler {type(scheduler).__name__} at "
                             f"index {i} with a different optimizer than the "
                             f"{type(optimizer).__name__} given.")


class ChainedScheduler(_WrapsSchedulers):
    r"""Step every scheduler in ``schedulers`` (all of one optimizer, none a
    ReduceLROnPlateau), in order, at each :meth:`step`: their chainable updates compose,
    e.g. ``ConstantLR`` warm-up times ``ExponentialLR`` decay, as in PyTorch.
    ``optimizer`` defaults to the first scheduler's. ``state_dict()`` holds the
    schedulers' state dicts under ``"_schedulers"``."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be "
                             "chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_wrapped_schedulers(type(self).__name__, optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._group_lrs()

    def step(self) -> None:  # no deprecated epoch argument, as in PyTorch
        """Step each scheduler in turn."""
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(ChainedScheduler.step, self)
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._group_lrs()


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rates by ``factor`` when a metric has stopped improving
    for more than ``patience`` epochs: call ``scheduler.step(metric)`` after each
    validation.

    A value is an improvement over the best so far when (``threshold_mode="rel"``) it is
    below ``best * (1 - threshold)`` (``mode="min"``) or above ``best * (1 + threshold)``
    (``mode="max"``), or (``"abs"``) below ``best - threshold`` / above
    ``best + threshold``. After a reduction, ``cooldown`` epochs pass before bad epochs
    count again. A group's rate never goes below its ``min_lr``, and a reduction smaller
    than ``eps`` is skipped.

    Args:
        optimizer: the wrapped optimizer.
        mode (str): ``"min"`` (default) or ``"max"``.
        factor (float): ``new_lr = lr * factor``, below 1 (default: 0.1).
        patience (int): the number of epochs without improvement that are tolerated
            (default: 10).
        threshold (float): the least significant change (default: 1e-4).
        threshold_mode (str): ``"rel"`` (default) or ``"abs"``.
        cooldown (int): epochs to wait after a reduction (default: 0).
        min_lr (float or list): the lowest learning rate, for all groups or one per
            group (default: 0).
        eps (float): the smallest reduction applied (default: 1e-8).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8):
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got factor={factor!r} (the learning "
                             "rate is multiplied by it on a plateau)")
        self.factor = factor
        self.optimizer = _check_optimizer(optimizer)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs (one per "
                                 f"parameter group), got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch: int | None = None) -> None:
        """Record this epoch's ``metrics`` (a number or a one-element Tensor) and reduce
        the learning rates if it has not improved for more than ``patience`` epochs."""
        if _recording.recorder is not None:  # the metric: a value the replay cannot see
            return _recording.recorder.call(ReduceLROnPlateau.step, self, metrics, epoch)
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step(metrics) needs the monitored value "
                            f"as a number, got {type(metrics).__name__}") from None
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated; "
                          "call `scheduler.step(metrics)` without it.", UserWarning,
                          stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self, epoch) -> None:
        n_groups = len(self.optimizer.param_groups)
        if n_groups != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the `optimizer` "
                                   f"({n_groups}) differs from when `ReduceLROnPlateau` "
                                   f"was initialized ({len(self.min_lrs)}), usually due to "
                                   "a new param group being added to the optimizer. "
                                   "Please modify the `min_lrs` field to match the length "
                                   "of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * n_groups
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in {"min", "max"}:
            raise ValueError(f"mode {mode!r} is unknown: use 'min' (reduce when the "
                             "metric stops decreasing) or 'max'")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError(f"threshold mode {threshold_mode!r} is unknown: use 'rel' or "
                             "'abs'")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore attributes saved by :meth:`state_dict`."""
        super().load_state_dict(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold,
                             threshold_mode=self.threshold_mode)


def _check_optimizer(optimizer) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` repeated for each group, or checked to have one entry per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups: "
                             f"{name} has {len(value)} values, param_groups has "
                             f"{len(optimizer.param_groups)}")
        return list(value)
    return [value] * len(optimizer.param_groups)
