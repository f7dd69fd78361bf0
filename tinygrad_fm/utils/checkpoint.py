"""``torch.utils.checkpoint``: trade compute for memory by recomputing a block's forward
pass during backward instead of keeping its intermediate results.

``checkpoint(function, *args)`` runs ``function`` without recording (so none of its
intermediate arrays are kept), saves only its inputs, and in backward runs it again with
recording on -- from the same random state, so dropout draws the same masks -- and
backpropagates through that second run: the gradients (of the inputs and of any
parameters ``function`` uses) are those of an ordinary forward pass.
"""

from __future__ import annotations

from .. import autograd
from ..autograd import Function, enable_grad
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Recompute(Function):
    @staticmethod
    def forward(ctx, function, preserve_rng_state, kwargs, *args):
        ctx.block, ctx.kwargs = function, kwargs
        ctx.rng_state = default_generator.get_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        outputs = function(*args, **kwargs)
        ctx.tuple_output = isinstance(outputs, tuple)
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        args = list(ctx.others)
        inputs = []
        for position, saved in zip(ctx.tensor_positions, ctx.saved_tensors):
            copy = saved.detach().requires_grad_(saved.requires_grad)
            args[position] = copy
            inputs.append(copy)
        current = default_generator.get_state()
        if ctx.rng_state is not None:
            default_generator.set_state(ctx.rng_state)
        try:
            with enable_grad():
                outputs = ctx.block(*args, **ctx.kwargs)
        finally:
            default_generator.set_state(current)
        outputs = outputs if ctx.tuple_output else (outputs,)
        pairs = [(out, grad) for out, grad in zip(outputs, grads)
                 if isinstance(out, Tensor) and out.requires_grad and grad is not None]
        if pairs:
            autograd.backward([out for out, _ in pairs], [grad for _, grad in pairs])
        input_grads = iter(x.grad if x.requires_grad else None for x in inputs)
        grads_by_position = dict(zip(ctx.tensor_positions, input_grads))
        return (None, None, None) + tuple(grads_by_position.get(i) for i in
                                          range(len(ctx.others)))


def checkpoint(function, *args, use_reentrant=None, context_fn=None,
               determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, recomputed in backward instead of stored (see the
    module documentation); ``use_reentrant`` either way gives the same gradients here.
    When no Tensor argument requires grad (the block's parameters may still), the block
    runs as usual, unrecomputed, so its parameters get their gradients."""
    if context_fn is not None:
        raise NotImplementedError("checkpoint: context_fn is not supported; leave it out")
    if not autograd.is_grad_enabled() or not any(
            isinstance(a, Tensor) and a.requires_grad for a in args):
        return function(*args, **kwargs)
    return _Recompute.apply(function, preserve_rng_state, kwargs, *args)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run the modules (or a Sequential) ``functions`` as ``segments`` groups, every
    group but the last checkpointed, as PyTorch does."""
    functions = list(functions.children()) if hasattr(functions, "children") \
        else list(functions)
    if not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must lie in 1..{len(functions)} "
                         f"(the number of functions), got {segments}")
    size = len(functions) // segments

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return forward

    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end, len(functions))(input)
