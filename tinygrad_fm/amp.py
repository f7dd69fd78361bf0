"""``torch.amp``: ``GradScaler`` and ``autocast``, as a CPU-only PyTorch has them.

``GradScaler("cpu")`` is PyTorch's dynamic loss scaling, step for step: ``scale(loss)``
multiplies by the scale, ``unscale_(optimizer)`` divides the gradients back and notes
whether any is inf or NaN, ``step(optimizer)`` skips the update when one was, and
``update()`` halves the scale after such a step or doubles it after ``growth_interval``
clean ones. Scaling by a power of two is exact, so in float32 the steps taken are the
ones an unscaled loop takes. ``GradScaler("cuda")`` (the default, and
``torch.cuda.amp.GradScaler``) is disabled with PyTorch's warning, as on a machine
without CUDA: every method passes through.

``autocast("cuda")`` is disabled with PyTorch's warning, as without CUDA. ``autocast``
on the CPU would compute matrix products in bfloat16, which NumPy has no type for: the
block runs in the tensors' own dtypes instead, and says so once.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from .autograd import no_grad

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

_CUDA_MISSING = "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."


class GradScaler:
    """Dynamic loss scaling (see the module documentation)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda"):
            warnings.warn(_CUDA_MISSING, UserWarning, stacklevel=2)
            enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must lie in (0, 1), got "
                             f"{backoff_factor}")
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}  # id(optimizer) -> {"unscaled": bool, "found_inf": bool}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def scale(self, outputs):
        """``outputs`` (a Tensor, or a list/tuple of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer),
                                              {"unscaled": False, "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place (once per step)."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        inverse = 1.0 / self._scale
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    grad *= grad.dtype.type(inverse)
                    if not np.isfinite(grad).all():
                        found_inf = True
        state.update(unscaled=True, found_inf=found_inf)

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless an unscaled gradient was inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        state = self._state(optimizer)
        if not state["unscaled"]:
            self.unscale_(optimizer)
        if state["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """After the step: back off after inf or NaN gradients, grow after
        ``growth_interval`` clean steps (or set ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(getattr(new_scale, "item", lambda: new_scale)())
        elif any(s["found_inf"] for s in self._per_optimizer.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                grown = self._scale * self._growth_factor
                if math.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
        self._per_optimizer.clear()

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was "
                               "saved from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


_warned_cpu_autocast = False


@contextlib.contextmanager
def _autocast(device_type: str, enabled: bool):
    global _warned_cpu_autocast
    if enabled and device_type.startswith("cuda"):
        warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                      UserWarning, stacklevel=4)
    elif enabled and not _warned_cpu_autocast:
        _warned_cpu_autocast = True
        warnings.warn("autocast on the CPU computes in bfloat16, which NumPy has no type "
                      "for: tinygrad_fm runs the block in the tensors' own dtypes",
                      UserWarning, stacklevel=4)
    yield


class autocast:  # noqa: N801  (torch.autocast)
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``:
    a context manager and decorator (see the module documentation)."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, enabled
        self._context = None

    def __enter__(self):
        self._context = _autocast(self.device_type, self._enabled)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def __call__(self, function):
        def wrapped(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return function(*args, **kwargs)

        return wrapped


def is_autocast_available(device_type: str) -> bool:
    return device_type == "cpu"


class _CudaAmp:
    """``torch.cuda.amp``: the deprecated CUDA forms, disabled here as without CUDA."""

    @staticmethod
    def GradScaler(*args, **kwargs) -> GradScaler:  # noqa: N802  (PyTorch's name)
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        return GradScaler("cuda", *args, **kwargs)

    @staticmethod
    def autocast(enabled: bool = True, dtype=None, cache_enabled=True) -> autocast:
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        return autocast("cuda", dtype, enabled, cache_enabled)


def _install() -> None:
    from .dtypes import cuda

    cuda.amp = _CudaAmp()


_install()
