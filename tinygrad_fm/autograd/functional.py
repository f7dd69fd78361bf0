"""``torch.autograd.functional``: vjp, jvp, jacobian, hessian, vhp and hvp of a function.

Each takes ``func`` and ``inputs`` (a Tensor or a tuple of Tensors; the results follow
that structure) and PyTorch's options: ``create_graph`` records the results so they can
be differentiated further, ``strict`` makes an output that does not depend on an input
an error (otherwise its derivative is zeros), ``vectorize`` and the strategies are
accepted (everything is computed in reverse mode, one backward per output element for
the Jacobian). ``jvp`` and ``hvp`` use the double-vjp trick: ``J v`` is the gradient,
with respect to ``u``, of ``u^T J`` (which is linear in ``u``).
"""

from __future__ import annotations

import numpy as np

from . import enable_grad, grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tensor_class():
    from ..tensor import Tensor
    return Tensor


def _as_tuple(value, name: str, op: str):
    Tensor = _tensor_class()
    if isinstance(value, Tensor):
        return False, (value,)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}: the {name} must be a Tensor or a tuple of Tensors, got "
                        f"{type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, Tensor):
            raise TypeError(f"{op}: the {name} must be a Tensor or a tuple of Tensors, but "
                            f"element {i} is a {type(item).__name__}")
    return True, tuple(value)


def _unpack(values, is_tuple):
    """Undo :func:`_as_tuple` (for a nested result, ``is_tuple`` is a pair: outer, inner)."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not outer:
            return _unpack(values[0], inner)
        return tuple(_unpack(v, inner) for v in values)
    return values if is_tuple else values[0]


def _prepare_inputs(inputs, create_graph: bool) -> tuple:
    """Fresh tensors that require grad; with create_graph, still connected to the
    callers' graph (so the results can be differentiated with respect to it)."""
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x))
        else:
            prepared.append(x.detach().requires_grad_(x.dtype.kind in "fc"))
    return tuple(prepared)


def _finish(values, create_graph: bool):
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _check_v(v, outputs, op: str, what: str) -> tuple:
    if v is None:
        for out in outputs:
            if out.data.size != 1:
                raise RuntimeError(f"{op}: v can only be None if the {what} is a single "
                                   f"element, but it has shape {out.shape}; give v of "
                                   "that shape")
        return tuple(None for _ in outputs)
    _, v = _as_tuple(v, "v", op)
    if len(v) != len(outputs):
        raise RuntimeError(f"{op}: v has {len(v)} Tensors but the {what} has "
                           f"{len(outputs)}")
    for i, (vi, out) in enumerate(zip(v, outputs)):
        if vi.shape != out.shape:
            raise RuntimeError(f"{op}: entry {i} of v has shape {vi.shape} but entry {i} "
                               f"of the {what} has shape {out.shape}")
    return v


def _grads(outputs, inputs, grad_outputs, create_graph: bool, retain_graph=None) -> list:
    """autograd.grad over the outputs that require grad; None for unreached inputs."""
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out.requires_grad]
    wanted = [i for i, x in enumerate(inputs) if x.requires_grad]
    result = [None] * len(inputs)
    if not pairs or not wanted:
        return result
    found = grad([out for out, _ in pairs], [inputs[i] for i in wanted],
                 [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)
    for i, g in zip(wanted, found):
        result[i] = g
    return result


def _fill_zeros(grads, like, strict: bool, op: str, what: str) -> tuple:
    Tensor = _tensor_class()
    filled = []
    for i, (g, x) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"{op}: the output of the user-provided function is "
                                   f"independent of {what} {i}. This is not allowed in "
                                   "strict mode.")
            g = Tensor(np.zeros(x.shape, dtype=x.dtype))
        filled.append(g)
    return tuple(filled)


def _scalar_output(func, inputs, op: str):
    Tensor = _tensor_class()
    output = func(*inputs)
    if isinstance(output, (tuple, list)):
        if len(output) != 1:
            raise RuntimeError(f"{op}: the function given to {op} must return a single "
                               f"Tensor, got a tuple of {len(output)}")
        output = output[0]
    if not isinstance(output, Tensor):
        raise TypeError(f"{op}: the function must return a Tensor, got "
                        f"{type(output).__name__}")
    if output.data.size != 1:
        raise RuntimeError(f"{op}: the function given to {op} must return a single-element "
                           f"Tensor, but it returned shape {output.shape}")
    return output


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "vjp")
        v = _check_v(v, outputs, "vjp", "output of the function")
        result = _fill_zeros(_grads(outputs, inputs, v, create_graph), inputs, strict,
                             "vjp", "input")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-vjp trick."""
    Tensor = _tensor_class()
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare_inputs(inputs, create_graph)
        v = _check_v(v, inputs, "jvp", "input")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function", "jvp")
        # u^T J is linear in u; its gradient with respect to u, weighted by v, is J v.
        dummies = tuple(Tensor(np.zeros(out.shape, dtype=out.dtype), requires_grad=True)
                        for out in outputs)
        transposed = _grads(outputs, inputs, dummies, create_graph=True)
        pairs = [(t, vi if vi is not None else Tensor(np.ones(x.shape, dtype=x.dtype)))
                 for t, vi, x in zip(transposed, v, inputs) if t is not None]
        result = [None] * len(outputs)
        if pairs:
            found = grad([t for t, _ in pairs], list(dummies), [vi for _, vi in pairs],
                         create_graph=create_graph, allow_unused=True)
            result = list(found)
        result = _fill_zeros(result, outputs, strict, "jvp", "output")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), outputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry ``[i][j]`` has shape
    ``outputs[i].shape + inputs[j].shape`` (a Tensor when both are single Tensors)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{strategy!r}")
    Tensor = _tensor_class()
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the function",
                                           "jacobian")
        rows = []
        for out in outputs:
            per_input = [[] for _ in inputs]
            flat_size = out.data.size
            for j in range(flat_size):
                seed = np.zeros(flat_size, dtype=out.dtype)
                seed[j] = 1
                seed = Tensor(seed.reshape(out.shape))
                grads = _grads((out,), inputs, (seed,), create_graph, retain_graph=True)
                for k, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None and strict:
                        raise RuntimeError(f"jacobian: output {len(rows)} of the "
                                           "user-provided function is independent of input "
                                           f"{k}. This is not allowed in strict mode.")
                    per_input[k].append(
                        Tensor(np.zeros(x.shape, dtype=x.dtype)) if g is None else g)
            row = []
            for k, x in enumerate(inputs):
                if per_input[k]:
                    stacked = _stack(per_input[k]).reshape(out.shape + x.shape)
                else:
                    stacked = Tensor(np.zeros(out.shape + x.shape, dtype=x.dtype))
                row.append(stacked if create_graph else stacked.detach())
            rows.append(tuple(row))
    return _unpack(tuple(rows), (outputs_tuple, inputs_tuple))


def _stack(tensors):
    from ..tensor import stack
    return stack(tensors)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func``: entry ``[i][j]`` has shape
    ``inputs[i].shape + inputs[j].shape`` (a Tensor for a single input)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        return jacobian(lambda *ys: _scalar_output(func, ys, "hessian").reshape(()), xs,
                        create_graph=True, strict=strict)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return _unpack(result, (inputs_tuple, inputs_tuple))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare_inputs(inputs, create_graph)
        v = _check_v(v, inputs, "vhp", "input")
        output = _scalar_output(func, inputs, "vhp")
        first = _grads((output,), inputs, (None,), create_graph=True)
        pairs = [(g, vi) for g, vi in zip(first, v) if g is not None]
        result = [None] * len(inputs)
        if pairs:
            result = _grads([g for g, _ in pairs], inputs, [vi for _, vi in pairs],
                            create_graph)
        result = _fill_zeros(result, inputs, strict, "vhp", "input")
    return (_finish((output,), create_graph)[0],
            _unpack(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar ``func``, by the double-vjp trick."""
    Tensor = _tensor_class()
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare_inputs(inputs, create_graph)
        v = _check_v(v, inputs, "hvp", "input")
        output = _scalar_output(func, inputs, "hvp")
        first = _grads((output,), inputs, (None,), create_graph=True)
        dummies = tuple(Tensor(np.zeros(x.shape, dtype=x.dtype), requires_grad=True)
                        for x in inputs)
        pairs = [(g, d) for g, d in zip(first, dummies) if g is not None]
        result = [None] * len(inputs)
        if pairs:
            transposed = _grads([g for g, _ in pairs], inputs, [d for _, d in pairs],
                                create_graph=True)
            pairs = [(t, vi) for t, vi in zip(transposed, v) if t is not None]
            if pairs:
                result = list(grad([t for t, _ in pairs], list(dummies),
                                   [vi for _, vi in pairs], create_graph=create_graph,
                                   allow_unused=True))
        result = _fill_zeros(result, inputs, strict, "hvp", "input")
    return (_finish((output,), create_graph)[0],
            _unpack(_finish(result, create_graph), inputs_tuple))
