"""The :class:`Optimizer` base class: parameter groups, per-parameter state, state dicts.

Like ``torch.optim.Optimizer``. A subclass passes its hyper-parameter defaults to
``Optimizer.__init__``, checks them in :meth:`Optimizer._validate` and updates one
parameter group in :meth:`Optimizer._step_group`. Each algorithm's update is a
plain function of NumPy arrays (``_sgd_update``, ``_adam_update``, ...), called once per
parameter, so the arithmetic reads apart from the bookkeeping of groups and state.

Updates run in place on ``p.data`` (other code holds views of it) and never write into
``p.grad``; intermediate results go to work arrays that the optimizer keeps between
steps (:meth:`Optimizer._work_arrays`). Scalar factors are Python floats, so float32
parameters and state stay float32.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping
from itertools import chain

import numpy as np

from .. import _recording
from ..autograd import bump_versions, enable_grad, no_grad
from . import fused as fused_updates

__all__ = ["Optimizer"]


def _require(condition: bool, name: str, value, rule: str) -> None:
    """Raise ``ValueError`` naming the hyper-parameter when ``condition`` is false.

    Written as ``not (0.0 <= x)`` by callers so that NaN is rejected too.
    """
    if not condition:
        raise ValueError(f"Invalid {name} value: {value!r} (it must be {rule})")


def _require_non_negative(hyper: dict, *names: str) -> None:
    """The check shared by most hyper-parameters (lr, eps, weight_decay, ...): >= 0."""
    for name in names:
        label = "learning rate (lr)" if name == "lr" else name
        _require(0.0 <= hyper[name], label, hyper[name], ">= 0")


def _check_betas(betas) -> None:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"Invalid betas value: {betas!r} (it must be a pair (beta1, beta2))")
    _require(0.0 <= beta1 < 1.0, "betas[0] (beta1)", beta1, "in [0, 1)")
    _require(0.0 <= beta2 < 1.0, "betas[1] (beta2)", beta2, "in [0, 1)")


def _check_fused(fused) -> None:
    """``fused`` is None (fused where numba is importable), True (fused, numba needed) or
    False (the NumPy update); True without numba raises ImportError here, at once."""
    if fused is not None and not isinstance(fused, bool):
        raise ValueError(f"Invalid fused value: {fused!r} (it must be None, True or False)")
    if fused:  # None waits for the first step to import numba (about a second)
        fused_updates.enabled(fused)


def _decayed_grad(param, grad, *, lr: float, weight_decay: float,
                  decoupled_weight_decay: bool, maximize: bool, out):
    """Steps 1-2 of the Adam family: with decoupled weight decay (AdamW's) shrink
    ``param`` in place by ``1 - lr * weight_decay`` and return the plain gradient, else
    return the gradient with the L2 penalty (:func:`_effective_grad`)."""
    if decoupled_weight_decay:
        if weight_decay != 0:
            param *= 1.0 - lr * weight_decay
        return _effective_grad(param, grad, 0.0, maximize, out=out)
    return _effective_grad(param, grad, weight_decay, maximize, out=out)


def _effective_grad(param, grad, weight_decay: float, maximize: bool, out):
    """``g = (-grad if maximize else grad) + weight_decay * param`` (L2 penalty).

    Returns ``grad`` itself when nothing changes it, else ``out`` (``grad`` is never
    written).
    """
    if weight_decay == 0:
        if not maximize:
            return grad
        return np.negative(grad, out=out)
    np.multiply(param, weight_decay, out=out)
    if maximize:
        return np.subtract(out, grad, out=out)
    return np.add(grad, out, out=out)


class Optimizer:
    """Base class of all optimizers (like ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
            groups), each with a ``"params"`` entry and any hyper-parameters that should
            differ from ``defaults`` for that group.
        defaults: the default hyper-parameters of every group.

    Attributes:
        param_groups: a list of dicts; each holds ``"params"`` (a list of Tensors) and
            that group's hyper-parameters (change ``group["lr"]`` to change a learning
            rate; schedulers do).
        state: per-parameter state, keyed by the parameter (Tensors hash by identity).
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._work: dict = {}  # dtype -> flat scratch array shared by all parameters
        self._work_views: dict = {}  # (dtype, shape, count) -> views into it
        self._opt_called = False  # set by step(); schedulers warn when step() comes first

        if _is_tensor(params):
            raise TypeError("params argument given to the optimizer should be an iterable "
                            "of Tensors or dicts, but got a single Tensor; pass [tensor]")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets changes "
                            "between runs; use a list instead")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- subclass hooks

    def _validate(self, hyper: dict) -> None:
        """Raise ``ValueError`` for an invalid hyper-parameter in ``hyper``."""

    def _step_group(self, group: dict) -> None:  # pragma: no cover - abstract
        """Update every parameter of ``group`` that has a gradient."""
        raise NotImplementedError

    def _export_state(self, state: dict) -> dict:
        """One parameter's state as :meth:`state_dict` shows it (PyTorch's entries), for
        optimizers that keep it in another form in memory."""
        return state

    def _import_state(self, state: dict, group: dict) -> dict:
        """The inverse of :meth:`_export_state`, for a parameter of ``group``."""
        return state

    # ----------------------------------------------------------------- groups

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with optional hyper-parameters of its own).

        Useful for fine-tuning: unfreeze layers and hand them to the optimizer as
        training goes on. Missing hyper-parameters come from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if _is_tensor(params):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets changes "
                            "between runs; use a list instead")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names; "
                                 "some param names are missing")
            group["param_names"] = names
            params = [p[1] for p in params]
        for p in params:
            if not _is_tensor(p):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if getattr(p, "_ctx", None) is not None and not getattr(p, "_retains_grad", False):
                raise ValueError("can't optimize a non-leaf Tensor")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)
        self.param_groups.append(group)

    # ----------------------------------------------------------------- stepping

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters.

        With ``set_to_none=True`` (the default) ``p.grad`` becomes None, which frees
        memory and makes the next backward store a fresh gradient; otherwise the
        gradient arrays are filled with zeros in place.
        """
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(Optimizer.zero_grad, self, set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.data.flags.writeable:
                        g.data[...] = 0
                    else:
                        g.data = np.zeros_like(g.data)

    def step(self, closure=None):
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure: optional callable that re-evaluates the model (zeroing the grads,
                computing the loss and calling backward) and returns the loss. It runs
                with grad mode enabled, before the update.

        Returns:
            The closure's loss, or None.
        """
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(Optimizer.step, self, closure)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True
        with no_grad():
            for group in self.param_groups:
                # the update writes into each parameter's array in place
                bump_versions(group["params"])
                self._step_group(group)
        return loss

    def _params_with_grad(self, group: dict):
        """Yield ``(param, param_array, grad_array)`` for the group's parameters that have
        a gradient; the others are skipped."""
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            grad = grad if isinstance(grad, np.ndarray) else grad.data
            if grad.shape != p.data.shape:
                raise RuntimeError(f"a parameter of shape {p.data.shape} has a gradient of "
                                   f"shape {grad.shape}")
            yield p, p.data, grad

    @staticmethod
    def _fused(group: dict) -> bool:
        """Whether ``group`` takes the fused (numba) update; each parameter also has to
        fit it (:func:`fused.fits`), else it takes the NumPy update."""
        return fused_updates.enabled(group.get("fused"))

    def _work_arrays(self, like: np.ndarray, count: int) -> list:
        """``count`` uninitialised scratch arrays shaped like ``like`` (same dtype).

        Views into one flat buffer per dtype that is reused for every parameter and
        step, so a step allocates nothing once the buffer has grown to the largest
        parameter. The contents are garbage between calls.
        """
        key = (like.dtype, like.shape, count)
        views = self._work_views.get(key)
        if views is not None:
            return views
        n = like.size
        buffer = self._work.get(like.dtype)
        if buffer is None or buffer.size < count * n:
            buffer = np.empty(count * n, dtype=like.dtype)
            self._work[like.dtype] = buffer
            # Views of the smaller buffer stay valid (they keep it alive), so no cache reset.
        views = [buffer[i * n:(i + 1) * n].reshape(like.shape) for i in range(count)]
        self._work_views[key] = views
        return views

    # ----------------------------------------------------------------- state dicts

    def state_dict(self) -> dict:
        """The optimizer's state as plain dicts, lists, Python numbers and (copied) arrays.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``,
        where parameters are numbered in order through the groups (as in PyTorch). Load
        it into an optimizer built the same way with :meth:`load_state_dict` to continue
        the exact same trajectory.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                exported = self._export_state(s)
                state[index[id(p)]] = {k: _copy_value(v) for k, v in exported.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state saved by :meth:`state_dict` (values are copied).

        The parameters are matched by position, so the optimizer must have been built
        with the same parameter groups, in the same order. Floating-point state arrays
        are cast to their parameter's dtype.
        """
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            found = (f"keys {sorted(map(str, state_dict))[:6]}" if isinstance(state_dict, Mapping)
                     else f"a {type(state_dict).__name__}")
            raise ValueError(f"{type(self).__name__}.load_state_dict expects the dict that "
                             "Optimizer.state_dict() returns, with 'state' and "
                             f"'param_groups' entries, but got {found} (a model's state "
                             "dict, perhaps?)")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"but the optimizer has {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has "
                                 f"{len(saved['params'])} parameters, but the optimizer's "
                                 f"has {len(group['params'])}")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        group_of = {id(p): saved for group, saved in zip(self.param_groups, saved_groups)
                    for p in group["params"]}
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, "
                                 "which is in none of its parameter groups")
            p = id_map[key]
            copied = {k: _copy_value(v, like=p.data) for k, v in value.items()}
            state[p] = self._import_state(copied, group_of[id(p)])
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                new_group["param_names"] = group["param_names"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups

    # ----------------------------------------------------------------- misc

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _is_tensor(obj) -> bool:
    from ..tensor import Tensor

    return isinstance(obj, Tensor)


def _copy_value(value, like: np.ndarray | None = None):
    """A copy of one state entry; floating arrays take ``like``'s dtype when given."""
    if isinstance(value, np.ndarray):
        if like is not None and value.dtype.kind == "f" and like.dtype.kind == "f":
            return np.array(value, dtype=like.dtype, copy=True)
        return value.copy()
    if _is_tensor(value):
        return _copy_value(value.data, like)
    return copy.deepcopy(value)
