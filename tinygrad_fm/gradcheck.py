"""Finite-difference gradient checking."""

from __future__ import annotations

import numpy as np

from .autograd import no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Compare the gradients of ``fn(*inputs)`` from backward() with central differences.

    Every floating input that requires grad (or, if none does, every floating input) is
    copied to float64 and checked. A non-scalar output is contracted with a fixed random
    weight ``w`` of its shape, so what is checked is the vector-Jacobian product
    ``w^T J`` -- exactly what backward computes -- with one backward pass per call.

    Returns True, or raises :class:`GradcheckError` naming the input, the worst element
    and both values (returns False instead when ``raise_exception=False``).
    """
    from .tensor import Tensor

    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    floating = [i for i, t in enumerate(tensors) if t.dtype.kind == "f"]
    checked = [i for i in floating if tensors[i].requires_grad] or floating
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    arguments = []
    for i, t in enumerate(tensors):
        if i in checked:
            arguments.append(Tensor(t.data.astype(np.float64, copy=True), requires_grad=True))
        else:
            arguments.append(t.detach())

    output = fn(*arguments)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    weight = np.random.default_rng(seed).uniform(0.5, 1.5, output.shape)
    if output.requires_grad:
        output.backward(weight)

    def objective() -> float:
        with no_grad():
            return float(np.sum(fn(*arguments).data.astype(np.float64) * weight))

    for i in checked:
        x = arguments[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        numeric = np.zeros(x.shape)
        flat = x.data.reshape(-1)  # a view: perturbations reach fn
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = objective()
            flat[j] = original - eps
            minus = objective()
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        error = np.where(np.isnan(error), np.inf, error)  # a NaN gradient never passes
        if error.size and error.max() > 0:
            worst = np.unravel_index(np.argmax(error), x.shape)
            message = (f"gradcheck failed for input {i} (shape {x.shape}) at element "
                       f"{tuple(int(k) for k in worst)}: analytic gradient "
                       f"{analytic[worst]:.8g}, numerical {numeric[worst]:.8g} "
                       f"(atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
