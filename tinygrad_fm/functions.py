"""``torch.*`` functions that are not Tensor methods: grids and products of tensors
(meshgrid, cartesian_prod, combinations, kron, block_diag), fused products (addmm,
baddbmm), statistics pairs (std_mean, var_mean), sorted search (searchsorted, bucketize)
pairwise distances (cdist), stacking by axis (hstack, vstack, dstack, column_stack,
atleast_1d/2d/3d), repeat_interleave and polygamma (whose argument order differs from
the method's). Each is built from differentiable Tensor ops, so
gradients (of every order) come from those."""

from __future__ import annotations

import itertools

import numpy as np

from .tensor import Tensor, cat, stack

__all__ = ["meshgrid", "cartesian_prod", "combinations", "kron", "block_diag", "trace",
           "addmm", "baddbmm", "std_mean", "var_mean", "searchsorted", "bucketize", "cdist",
           "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack",
           "column_stack", "repeat_interleave", "polygamma"]


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D (or 0-d) tensors: tensor i varies along axis i
    (``indexing="ij"``, the default) or, with ``"xy"``, the first two swap (Cartesian,
    as NumPy's default). Returns a tuple of tensors of the grid's shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [_tensor(t) for t in tensors]
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-d tensors, tensor {i} has shape "
                             f"{t.shape}")
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError(f"meshgrid: expects all tensors to have the same dtype, got "
                        f"{[str(t.dtype) for t in tensors]}; convert them first")
    sizes = [t.numel() for t in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for t, axis in zip(tensors, axes):
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(t.reshape(shape).expand(tuple(sizes)))
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, one per row (a single
    tensor is returned as it is)."""
    if len(tensors) == 1:
        return _tensor(tensors[0])
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the 1-D tensor's elements, one per row, in
    ``itertools.combinations`` order (with replacement: ``combinations_with_replacement``)."""
    input = _tensor(input)
    if input.ndim != 1:
        raise ValueError(f"combinations: expects a 1-D tensor, got shape {input.shape}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return Tensor(np.empty((0,), dtype=input.dtype))
    choose = itertools.combinations_with_replacement if with_replacement \
        else itertools.combinations
    picks = np.array(list(choose(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[picks]


def kron(input, other) -> Tensor:
    """The Kronecker product: block (i, j, ...) of the result is ``input[i, j, ...] *
    other`` (the shorter shape padded with leading 1s)."""
    a, b = _tensor(input), _tensor(other)
    ndim = max(a.ndim, b.ndim)
    a_shape = (1,) * (ndim - a.ndim) + a.shape
    b_shape = (1,) * (ndim - b.ndim) + b.shape
    # Interleave the axes: a's along the even positions, b's along the odd ones.
    a = a.reshape(tuple(n for size in a_shape for n in (size, 1)))
    b = b.reshape(tuple(n for size in b_shape for n in (1, size)))
    return (a * b).reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))


def block_diag(*tensors) -> Tensor:
    """The tensors (0-d, 1-d as a row, or 2-d) as blocks along the diagonal of a matrix
    of zeros, in their common dtype."""
    blocks = []
    for i, t in enumerate(tensors):
        t = _tensor(t)
        if t.ndim > 2:
            raise ValueError(f"block_diag: expects tensors with at most 2 dimensions, tensor "
                             f"{i} has shape {t.shape}")
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    if not blocks:
        return Tensor(np.empty((1, 0), dtype=np.float32))
    dtype = _common_dtype([b.dtype for b in blocks])
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        b = b.astype(dtype)
        pieces = [Tensor(np.zeros((b.shape[0], left), dtype)), b,
                  Tensor(np.zeros((b.shape[0], width - left - b.shape[1]), dtype))]
        rows.append(cat(pieces, dim=1))
        left += b.shape[1]
    return cat(rows, dim=0)


def _common_dtype(dtypes) -> np.dtype:
    """PyTorch's promotion across tensors by category: floats win over integers without
    widening (int64 with float32 is float32, where NumPy would give float64)."""
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*(floats or dtypes))


def trace(input) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    input = _tensor(input)
    if input.ndim != 2:
        raise ValueError(f"trace: expects a matrix, got shape {input.shape}")
    return input.diagonal().sum()


def _scaled_sum(input, product, beta, alpha) -> Tensor:
    """``beta * input + alpha * product``; with beta 0 ``input`` is ignored (its NaN and
    inf do not reach the result), as in PyTorch."""
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        shape = np.broadcast_shapes(scaled.shape, input.shape)
        return scaled if scaled.shape == shape else scaled.expand(shape)
    return (input if beta == 1 else input * beta) + scaled


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices (``input`` broadcasts)."""
    mat1, mat2 = _tensor(mat1), _tensor(mat2)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"addmm: mat1 and mat2 must be matrices, got shapes {mat1.shape} "
                         f"and {mat2.shape}")
    return _scaled_sum(_tensor(input), mat1 @ mat2, beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)`` (``input`` broadcasts)."""
    return _scaled_sum(_tensor(input), _tensor(batch1).bmm(batch2), beta, alpha)


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """``(std, mean)`` over ``dim``, as ``torch.std_mean``."""
    input = _tensor(input)
    return (input.std(dim, correction, keepdim, unbiased=unbiased),
            input.mean(dim, keepdim))


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """``(var, mean)`` over ``dim``, as ``torch.var_mean``."""
    input = _tensor(input)
    return (input.var(dim, correction, keepdim, unbiased=unbiased),
            input.mean(dim, keepdim))


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """For each value, the index where it would be inserted to keep ``sorted_sequence``
    sorted along its last dimension (before equal entries; after them with ``right`` or
    ``side="right"``). A 1-D sequence serves every value; an N-D one pairs its leading
    dimensions with those of ``input``. int64 (int32 with ``out_int32``)."""
    sequence = np.asarray(sorted_sequence.data if isinstance(sorted_sequence, Tensor)
                          else sorted_sequence)
    values = np.asarray(input.data if isinstance(input, Tensor) else input)
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right' (and agree with "
                             f"right={right}), got {side!r}")
        right = side == "right"
    if sorter is not None:
        sorter = np.asarray(sorter.data if isinstance(sorter, Tensor) else sorter)
        sequence = np.take_along_axis(sequence, sorter, axis=-1)
    where = "right" if right else "left"
    if sequence.ndim <= 1:
        found = np.searchsorted(sequence.reshape(-1), values, side=where)
    else:
        if values.shape[:-1] != sequence.shape[:-1]:
            raise ValueError(f"searchsorted: the leading dimensions of the sorted sequence "
                             f"{sequence.shape} and of the values {values.shape} must match")
        rows = sequence.reshape(-1, sequence.shape[-1])
        wanted = values.reshape(len(rows), -1)
        found = np.stack([np.searchsorted(r, v, side=where) for r, v in zip(rows, wanted)])
        found = found.reshape(values.shape)
    return Tensor._make(np.asarray(found, dtype=np.int32 if out_int32 else np.int64), False)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among the 1-D sorted ``boundaries``: i with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right``: ``boundaries[i-1] <= x <
    boundaries[i]``), as ``torch.bucketize``."""
    boundaries = np.asarray(boundaries.data if isinstance(boundaries, Tensor) else boundaries)
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): shape (..., P, R). Computed from the differences directly (PyTorch's
    matrix-product shortcut for large p=2 inputs may differ in the last float32 bits);
    the gradient at distance 0 is 0, as in PyTorch."""
    x1, x2 = _tensor(x1), _tensor(x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: expects (..., P, M) and (..., R, M) tensors with the same "
                         f"M, got shapes {x1.shape} and {x2.shape}")
    if p < 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return differences.norm(p, dim=-1)


def _at_least(tensors, shape_of, name):
    """One tensor, or a tuple of them (given as arguments or one sequence), each
    reshaped by ``shape_of(shape)`` when it has fewer dimensions than wanted."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shaped = tuple(t.reshape(shape_of(t.shape)) for t in map(_tensor, tensors))
    return shaped[0] if single else shaped


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,))."""
    return _at_least(tensors, lambda s: s if len(s) >= 1 else (1,), "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions: () -> (1, 1), (n,) -> (1, n)."""
    return _at_least(tensors, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s,
                     "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1), as PyTorch (and NumPy)."""
    def shape_of(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return _at_least(tensors, shape_of, "atleast_3d")


def _sequence(tensors, name: str) -> tuple:
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name}: expects a non-empty list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    return tuple(_tensor(t) for t in tensors)


def hstack(tensors) -> Tensor:
    """Join along the columns: dimension 1, or 0 for 1-D tensors (``torch.hstack``)."""
    tensors = atleast_1d(_sequence(tensors, "hstack"))
    return cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along the rows (dimension 0), 1-D tensors as rows (``torch.vstack``)."""
    return cat(atleast_2d(_sequence(tensors, "vstack")), dim=0)


def dstack(tensors) -> Tensor:
    """Join along the depth (dimension 2) after :func:`atleast_3d`."""
    return cat(atleast_3d(_sequence(tensors, "dstack")), dim=2)


def column_stack(tensors) -> Tensor:
    """Join along dimension 1, 0-d and 1-D tensors as columns (``torch.column_stack``)."""
    tensors = _sequence(tensors, "column_stack")
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], dim=1)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; given only a 1-D integer tensor of
    counts, the indices 0, 1, ... each repeated that often (as PyTorch)."""
    input = _tensor(input)
    if repeats is None:
        return Tensor._make(np.arange(input.numel(), dtype=np.int64), False) \
            .repeat_interleave(input, output_size=output_size)
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def polygamma(n, input) -> Tensor:
    """``torch.polygamma(n, input)``: the n-th derivative of digamma."""
    return _tensor(input).polygamma(n)
