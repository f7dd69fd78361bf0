"""Stochastic weight averaging and EMA with ``torch.optim.swa_utils``' names and semantics:
``AveragedModel`` (a copy of a model whose parameters, and with ``use_buffers`` buffers,
are running averages of the model's), the averaging functions ``get_swa_avg_fn``,
``get_ema_avg_fn``, ``get_swa_multi_avg_fn`` and ``get_ema_multi_avg_fn``, the ``SWALR``
schedule and ``update_bn``."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay) -> float:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")
    return float(decay)


def get_ema_multi_avg_fn(decay: float = 0.999):
    """In-place EMA over lists of tensors: ``ema += (1 - decay) * (current - ema)``."""
    decay = _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        with no_grad():
            for ema, current in zip(ema_param_list, current_param_list):
                if ema.dtype.kind in "fc":
                    ema.lerp_(current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """In-place equal-weight running average over lists of tensors."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        with no_grad():
            count = int(np.asarray(getattr(num_averaged, "data", num_averaged)))
            for averaged, current in zip(averaged_param_list, current_param_list):
                if averaged.dtype.kind in "fc":
                    averaged.lerp_(current, 1 / (count + 1))
                else:
                    averaged.copy_(averaged + (current - averaged) / (count + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """``decay * ema + (1 - decay) * current`` for one tensor."""
    decay = _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """``averaged + (current - averaged) / (num_averaged + 1)`` for one tensor."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A deep copy of ``model`` (under ``module``) whose parameters track an average of
    ``model``'s across :meth:`update_parameters` calls: equal weights by default, or
    ``avg_fn(averaged, current, n_averaged)`` (returns the new value) or
    ``multi_avg_fn(averaged_list, current_list, n_averaged)`` (updates in place). The
    first update copies the model. With ``use_buffers`` the buffers are averaged too;
    otherwise they are copied from the model at each update. ``n_averaged`` is an int64
    buffer (in the state dict beside ``module.*``), as PyTorch's. ``device`` is accepted
    and ignored (one device)."""

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers) into the averages."""
        if self.use_buffers:
            averaged = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            current = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averaged, current = list(self.module.parameters()), list(model.parameters())
        averaged = [p.detach() for p in averaged]
        current = [p.detach() for p in current[:len(averaged)]]
        with no_grad():
            if int(self.n_averaged.data) == 0:
                for p_averaged, p_model in zip(averaged, current):
                    p_averaged.copy_(p_model)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, current, self.n_averaged)
            else:  # PyTorch's CPU default: get_swa_avg_fn, tensor by tensor
                average = self.avg_fn or get_swa_avg_fn()
                for p_averaged, p_model in zip(averaged, current):
                    p_averaged.copy_(average(p_averaged, p_model, self.n_averaged))
            if not self.use_buffers:  # keep the buffers in sync with the source model
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach())
        self.n_averaged.data[...] += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over
    ``loader`` (batches are tensors, or lists / tuples whose first item is the input):
    the statistics are reset and accumulated as a cumulative average (momentum None), then
    each layer's momentum and the model's training mode are restored."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` (a number, or one per group) over
    ``anneal_epochs`` steps, by ``anneal_strategy`` 'cos' or 'linear', then hold it;
    PyTorch's recurrence step for step."""

    _unsaved = ("optimizer", "anneal_func")

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1):
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr),
                                optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) \
                or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The learning rate the annealing started from, given where it is now."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" \
            else self._linear_anneal

    def get_lr(self) -> list:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)
