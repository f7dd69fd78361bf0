"""``parameters_to_vector`` / ``vector_to_parameters`` (PyTorch's names and semantics)."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor, cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _parameter_list(parameters, function: str) -> list:
    if isinstance(parameters, Tensor):
        raise TypeError(f"{function}: expected an iterable of parameters (e.g. "
                        "model.parameters()), got a single Tensor; wrap it in a list")
    parameters = list(parameters)
    for param in parameters:
        if not isinstance(param, Tensor):
            raise TypeError(f"{function}: expected Tensors, got {type(param).__name__}")
    return parameters


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor, in order (differentiable:
    the gradient flows back to each parameter)."""
    parameters = _parameter_list(parameters, "parameters_to_vector")
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    dtypes = {param.dtype for param in parameters}
    if len(dtypes) > 1:
        raise TypeError(f"parameters_to_vector: the parameters have different dtypes "
                        f"{sorted(map(str, dtypes))}; convert them to one first "
                        "(module.to(dtype)) so that nothing is silently promoted")
    return cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in order. The
    values are written into each parameter's array in place (so an optimizer holding the
    parameters keeps working), without recording a gradient."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got "
                        f"{type(vec).__name__}")
    parameters = _parameter_list(parameters, "vector_to_parameters")
    total = sum(param.numel() for param in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec of shape {vec.shape} does not fit the "
                         f"parameters: it needs shape ({total},), their total size")
    offset = 0
    for param in parameters:
        count = param.numel()
        np.copyto(param.data, vec.data[offset:offset + count].reshape(param.shape),
                  casting="same_kind")
        offset += count
