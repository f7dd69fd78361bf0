"""Finite-difference checks of first (gradcheck) and second (gradgradcheck) derivatives."""

from __future__ import annotations

import numpy as np

from .autograd import enable_grad, no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree."""


def _checked_arguments(inputs):
    """float64 copies (requiring grad) of the inputs to check, the rest detached: every
    floating input that requires grad or, if none does, every floating input."""
    from .tensor import Tensor

    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    floating = [i for i, t in enumerate(tensors) if t.dtype.kind == "f"]
    checked = [i for i in floating if tensors[i].requires_grad] or floating
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    arguments = [Tensor(t.data.astype(np.float64, copy=True), requires_grad=True)
                 if i in checked else t.detach() for i, t in enumerate(tensors)]
    return arguments, checked


def _outputs(fn, arguments) -> list:
    from .tensor import Tensor

    output = fn(*arguments)
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    for k, out in enumerate(outputs):
        if out is not None and not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor (or a tuple of Tensors), "
                            f"got {type(out).__name__}"
                            + (f" as output {k}" if len(outputs) > 1 else ""))
    return outputs


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True, **torch_options) -> bool:
    """Compare the gradients of ``fn(*inputs)`` from backward() with central differences
    (``torch.autograd.gradcheck``; its other keyword options are accepted and ignored).

    Every floating input that requires grad (or, if none does, every floating input) is
    copied to float64 and checked. ``fn`` returns a Tensor or a tuple of Tensors; each
    output is contracted with a fixed random weight ``w`` of its shape, so what is
    checked is the vector-Jacobian product ``w^T J`` -- exactly what backward computes
    -- with one backward pass per call.

    Returns True, or raises :class:`GradcheckError` naming the input, the worst element
    and both values (returns False instead when ``raise_exception=False``).
    """
    from .autograd import backward

    arguments, checked = _checked_arguments(inputs)
    outputs = _outputs(fn, arguments)
    rng = np.random.default_rng(seed)
    weights = [None if out is None else rng.uniform(0.5, 1.5, out.shape) for out in outputs]
    recorded = [(out, w) for out, w in zip(outputs, weights)
                if out is not None and out.requires_grad]
    if recorded:
        backward([out for out, _ in recorded], [w for _, w in recorded])

    def objective() -> float:
        with no_grad():
            values = _outputs(fn, arguments)
        return float(sum(np.sum(out.data.astype(np.float64) * w)
                         for out, w in zip(values, weights) if out is not None))

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


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, seed: int = 0, **torch_options) -> bool:
    """Check second derivatives (``torch.autograd.gradgradcheck``): :func:`gradcheck` of
    the map ``(inputs, v) -> autograd.grad(fn(inputs), inputs, v, create_graph=True)``,
    i.e. of the first derivatives computed with ``create_graph=True``, with respect to
    the inputs and to the output gradients ``v`` (random when ``grad_outputs`` is None).
    The inputs are chosen as in :func:`gradcheck`; failures name input ``k`` of that map
    (the inputs first, then one ``v`` per output that requires grad)."""
    from .autograd import grad
    from .tensor import Tensor

    arguments, checked = _checked_arguments(inputs)
    with enable_grad():
        outputs = [out for out in _outputs(fn, arguments)
                   if out is not None and out.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor(rng.uniform(-1.0, 1.0, out.shape), requires_grad=True)
                        for out in outputs]
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else [grad_outputs]
        grad_outputs = [Tensor(np.asarray(g.data if isinstance(g, Tensor) else g,
                                          dtype=np.float64), requires_grad=True)
                        for g in grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs that require grad")
    count = len(arguments)

    def first_derivatives(*args):
        xs, vs = args[:count], args[count:]
        with enable_grad():
            outs = [out for out in _outputs(fn, xs) if out is not None and out.requires_grad]
            differentiated = [xs[i] for i in checked]
            if not outs:
                return tuple(Tensor(np.zeros(x.shape)) for x in differentiated)
            grads = grad(outs, differentiated, list(vs), create_graph=True,
                         allow_unused=True)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g
                     for g, x in zip(grads, differentiated))

    # The recorded first derivatives must be the ones the array backward computes (which
    # gradcheck verifies); then their own derivatives are checked by finite differences.
    with enable_grad():
        outs = [out for out in _outputs(fn, arguments) if out is not None and out.requires_grad]
        differentiated = [arguments[i] for i in checked]
        if outs:
            plain = grad(outs, differentiated, [v.detach() for v in grad_outputs],
                         allow_unused=True)
            recorded = first_derivatives(*arguments, *grad_outputs)
            for k, (p, r) in enumerate(zip(plain, recorded)):
                p = np.zeros(r.shape) if p is None else p.data
                if not np.allclose(r.data, p, rtol=rtol, atol=atol, equal_nan=True):
                    message = (f"gradgradcheck: the first derivative for input {checked[k]} "
                               "computed with create_graph=True (differentiable_backward) "
                               "differs from backward's: max |difference| "
                               f"{np.max(np.abs(r.data - p)):.8g}")
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    return gradcheck(first_derivatives, arguments + grad_outputs, eps=eps, atol=atol,
                     rtol=rtol, seed=seed, raise_exception=raise_exception)
