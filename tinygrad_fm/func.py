"""``torch.func``: function transforms on the reverse-mode engine.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``hessian``, ``vmap`` and
``functional_call``, with PyTorch's signatures, so the usual recipes run: per-sample
gradients (``vmap(grad(loss), in_dims=(None, 0, 0))`` over ``functional_call`` of a
model), Hessians, Jacobians. The transforms compose (``grad(grad(f))``,
``vmap(jacrev(f))``): every derivative is recorded (``create_graph``) so it can be
differentiated again.

What differs from PyTorch's implementation, not its results: ``vmap`` calls the function
once per sample and stacks the results (PyTorch batches the operations), so it costs a
Python loop; ``jacrev`` takes one backward pass per output element.
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import autograd
from . import random as _random
from .autograd import functional as _functional
from .tensor import Tensor, stack

__all__ = ["grad", "grad_and_value", "vjp", "jacrev", "hessian", "vmap", "functional_call"]


def _differentiable(value):
    """A Tensor the engine can differentiate with respect to: itself when it already
    requires grad (an enclosing transform's input, so the transforms nest), else a
    detached copy that does."""
    if not isinstance(value, Tensor):
        raise TypeError(f"torch.func: expected Tensor arguments to differentiate with "
                        f"respect to, got {type(value).__name__}")
    if value.requires_grad:
        return value
    return value.detach().requires_grad_()


def _flatten(tree) -> tuple:
    """``(leaves, rebuild)`` of a nest of dicts, tuples and lists ending in Tensors (the
    "pytrees" torch.func takes: a dict of parameters, a tuple of inputs);
    ``rebuild(new_leaves)`` makes the same nest from other leaves."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
    elif isinstance(tree, (tuple, list)):
        keys = None
        parts = [_flatten(v) for v in tree]
    else:
        return [tree], lambda leaves: leaves[0]
    counts = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves):
        values, start = [], 0
        for (_, build), count in zip(parts, counts):
            values.append(build(leaves[start:start + count]))
            start += count
        if keys is not None:
            return dict(zip(keys, values))
        return type(tree)(values)

    return [leaf for leaves, _ in parts for leaf in leaves], rebuild


def _argnums(argnums, count: int, op: str) -> tuple:
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not positions:
        raise ValueError(f"{op}: argnums must be an int or a non-empty tuple of ints")
    for position in positions:
        if not -count <= position < count:
            raise ValueError(f"{op}: argnums {position} is out of range for a function "
                             f"called with {count} positional arguments")
    return tuple(p % count for p in positions)


def _grad_and_value(func, argnums, has_aux: bool, args, kwargs, op: str):
    positions = _argnums(argnums, len(args), op)
    args = list(args)
    selected = []  # (leaves, rebuild) of each differentiated argument
    for p in positions:
        leaves, rebuild = _flatten(args[p])
        leaves = [_differentiable(leaf) for leaf in leaves]
        args[p] = rebuild(leaves)
        selected.append((leaves, rebuild))
    with autograd.enable_grad():
        result = func(*args, **kwargs)
    aux = None
    if has_aux:
        if not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError(f"{op}(f, has_aux=True): f must return a tuple (output, aux)")
        result, aux = result
    if not isinstance(result, Tensor) or result.numel() != 1:
        raise RuntimeError(f"{op}(f)(*args): expected f(*args) to return a scalar Tensor, "
                           f"got {getattr(result, 'shape', type(result).__name__)}")
    all_leaves = [leaf for leaves, _ in selected for leaf in leaves]
    flat = list(autograd.grad(result, all_leaves, create_graph=True, allow_unused=True,
                              materialize_grads=True))
    grads, start = [], 0
    for leaves, rebuild in selected:
        grads.append(rebuild(flat[start:start + len(leaves)]))
        start += len(leaves)
    grads = grads[0] if isinstance(argnums, int) else tuple(grads)
    return grads, result, aux


def grad(func, argnums=0, has_aux: bool = False):
    """The function computing the gradient of the scalar ``func`` with respect to its
    positional argument(s) ``argnums``; with ``has_aux``, ``func`` returns ``(output,
    aux)`` and the result is ``(gradient, aux)``."""
    def gradient(*args, **kwargs):
        grads, _, aux = _grad_and_value(func, argnums, has_aux, args, kwargs, "grad")
        return (grads, aux) if has_aux else grads

    return gradient


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """As :func:`grad`, returning ``(gradient, value)`` (``value`` is ``(output, aux)``
    with ``has_aux``)."""
    def gradient_and_value(*args, **kwargs):
        grads, value, aux = _grad_and_value(func, argnums, has_aux, args, kwargs,
                                            "grad_and_value")
        return grads, ((value, aux) if has_aux else value)

    return gradient_and_value


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives the vector-Jacobian
    product for each primal (a tuple); with ``has_aux``, also ``aux``."""
    primals = tuple(_differentiable(p) for p in primals)
    with autograd.enable_grad():
        result = func(*primals)
    aux = None
    if has_aux:
        result, aux = result
    outputs = result if isinstance(result, tuple) else (result,)

    def vjp_fn(cotangents):
        cotangents = cotangents if isinstance(cotangents, tuple) else (cotangents,)
        if len(cotangents) != len(outputs):
            raise RuntimeError(f"vjp_fn: expected {len(outputs)} cotangents (one per "
                               f"output), got {len(cotangents)}")
        return tuple(autograd.grad(outputs, primals, grad_outputs=cotangents,
                                   retain_graph=True, create_graph=True, allow_unused=True,
                                   materialize_grads=True))

    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)


def jacrev(func, argnums=0, has_aux: bool = False):
    """The function computing the Jacobian of ``func`` with respect to argument(s)
    ``argnums``: shape ``output.shape + input.shape``."""
    def jacobian(*args, **kwargs):
        positions = _argnums(argnums, len(args), "jacrev")
        aux = []

        def of_selected(*selected):
            full = list(args)
            for p, value in zip(positions, selected):
                full[p] = value
            result = func(*full, **kwargs)
            if has_aux:
                result, extra = result
                aux.append(extra)
            return result

        selected = tuple(_differentiable(args[p]) for p in positions)
        result = _functional.jacobian(of_selected, selected if len(selected) > 1
                                      else selected[0], create_graph=True)
        if isinstance(argnums, int) and isinstance(result, tuple):
            result = result[0]
        return (result, aux[0]) if has_aux else result

    return jacobian


def hessian(func, argnums=0):
    """The Hessian of the scalar ``func`` with respect to argument(s) ``argnums``."""
    return jacrev(jacrev(func, argnums), argnums)


def _in_dims(in_dims, args, op: str) -> tuple:
    dims = (in_dims,) * len(args) if not isinstance(in_dims, (tuple, list)) else tuple(in_dims)
    if len(dims) != len(args):
        raise ValueError(f"{op}: in_dims has {len(dims)} entries for {len(args)} positional "
                         "arguments")
    return dims


def _batch_size(args, dims, op: str) -> int:
    sizes = {leaf.shape[dim] for arg, dim in zip(args, dims) if dim is not None
             for leaf in _flatten(arg)[0] if isinstance(leaf, Tensor)}
    if not sizes:
        raise ValueError(f"{op}: at least one Tensor argument must be mapped over (an "
                         "in_dims entry that is not None)")
    if len(sizes) > 1:
        raise ValueError(f"{op}: the mapped axes have different sizes {sorted(sizes)}; "
                         "they must all hold the same batch")
    return sizes.pop()


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``func`` mapped over an axis of its arguments (``in_dims``: one per positional
    argument, or one for all; None passes an argument whole) and the results stacked
    along ``out_dims``. ``randomness``: "error" refuses random draws inside ``func``,
    "different" lets each sample draw its own, "same" gives every sample the same
    draws."""
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")

    def mapped(*args, **kwargs):
        dims = _in_dims(in_dims, args, "vmap")
        size = _batch_size(args, dims, "vmap")
        generator = _random.default_generator
        start = generator.get_state()
        results = []
        for index in range(size):
            if randomness == "same":
                generator.set_state(start)
            before = generator.get_state() if randomness == "error" else None
            sample = [arg if dim is None else _sample(arg, dim, index)
                      for arg, dim in zip(args, dims)]
            results.append(func(*sample, **kwargs))
            if before is not None and not np.array_equal(before.data,
                                                         generator.get_state().data):
                raise RuntimeError("vmap: called random operations while randomness='error'; "
                                   "pass randomness='different' or 'same'")
        return _stack_results(results, out_dims)

    return mapped


def _sample(arg, dim: int, index: int):
    """Sample ``index`` of every Tensor in ``arg`` along axis ``dim``."""
    leaves, rebuild = _flatten(arg)
    return rebuild([leaf[(slice(None),) * (dim % leaf.ndim) + (index,)] for leaf in leaves])


def _stack_results(results, out_dims):
    """The per-sample results stacked leaf by leaf; ``out_dims`` one axis for all, or
    one per element of a returned tuple."""
    first, rebuild = _flatten(results[0])
    per_result = [_flatten(r)[0] for r in results]
    if not all(isinstance(leaf, Tensor) for leaf in first):
        raise TypeError("vmap: the function must return Tensors (or a dict, tuple or list "
                        "of them)")
    if isinstance(out_dims, int):
        dims = [out_dims] * len(first)
    else:
        dims = [d for d, part in zip(out_dims, results[0]) for _ in _flatten(part)[0]]
    return rebuild([stack([leaves[k] for leaves in per_result], dims[k])
                    for k in range(len(first))])


@contextlib.contextmanager
def _swapped(module, values: dict, strict: bool):
    """``module``'s parameters and buffers named in ``values`` replaced by those tensors
    for the duration of the block (the registries are edited directly: a plain Tensor
    may stand in for a Parameter)."""
    owners = {}
    for name in values:
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        registry = next((r for r in ("_parameters", "_buffers")
                         if leaf in owner.__dict__.get(r, ())), None)
        if registry is None:
            raise AttributeError(f"functional_call: {type(module).__name__} has no parameter "
                                 f"or buffer named {name!r}")
        owners[name] = (owner.__dict__[registry], leaf)
    if strict:
        expected = {n for n, _ in module.named_parameters()} | \
            {n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(values))
        if missing:
            raise RuntimeError(f"functional_call: strict=True and no value for {missing}")
    saved = {name: registry[leaf] for name, (registry, leaf) in owners.items()}
    try:
        for name, (registry, leaf) in owners.items():
            registry[leaf] = values[name]
        yield
    finally:
        for name, (registry, leaf) in owners.items():
            registry[leaf] = saved[name]


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with the given tensors in place of its parameters and
    buffers (a dict name -> Tensor, or a tuple of such dicts), the module itself left
    unchanged."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    values = {}
    for d in dicts:
        overlap = set(values) & set(d)
        if overlap:
            raise ValueError(f"functional_call: {sorted(overlap)} appear in more than one "
                             "dictionary")
        values.update(d)
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, values, strict):
        return module(*args, **(kwargs or {}))
