"""``torch.linalg``: solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals, qr, norm,
vector_norm,
matrix_norm (differentiable), and
the contractions einsum and tensordot (exported at the top level as in PyTorch)."""

from __future__ import annotations

import math

import numpy as np

from . import ops
from . import return_types as _return_types
from .tensor import Tensor

__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr",
           "norm", "vector_norm", "matrix_norm", "einsum",
           "tensordot", "matmul"]


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def solve(A, B, *, left=True) -> Tensor:
    """X with ``A @ X = B`` (B a matrix or, when it has A's shape without the last axis,
    a vector); batched over leading axes."""
    if not left:
        raise NotImplementedError("linalg.solve(left=False) is not supported; solve "
                                  "A.mT X = B.mT and transpose instead")
    return ops.Solve.apply(_tensor(A), _tensor(B))


def inv(A) -> Tensor:
    return ops.Inv.apply(_tensor(A))


def det(A) -> Tensor:
    return ops.Det.apply(_tensor(A))


def slogdet(A):
    """``(sign, logabsdet)`` of det(A), as ``torch.linalg.slogdet``; ``logabsdet`` is
    differentiable (gradient A^-T), ``sign`` is not."""
    A = _tensor(A)
    logabsdet = ops.LogAbsDet.apply(A)
    sign = np.asarray(np.linalg.slogdet(A.data)[0], dtype=A.dtype)
    return _return_types.slogdet(Tensor._make(sign, False), logabsdet)


def cholesky(A, *, upper=False) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite matrix (batched): lower
    (A = L L^T) or, with ``upper``, its transpose; only A's lower triangle is read."""
    lower = ops.Cholesky.apply(_tensor(A))
    return lower.mT if upper else lower


def eigh(A, UPLO="L"):  # noqa: N803  (PyTorch's argument name)
    """``(eigenvalues, eigenvectors)`` of a symmetric matrix, eigenvalues ascending and
    eigenvectors as columns, reading the ``UPLO`` ('L' or 'U') triangle, as
    ``torch.linalg.eigh``; both are differentiable (eigenvectors' signs are LAPACK's,
    as PyTorch's on the CPU)."""
    A = _tensor(A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = ops.Eigh.apply(A if UPLO == "L" else A.mT)
    return _return_types.eigh(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(A, UPLO="L") -> Tensor:
    """The eigenvalues of a symmetric matrix, ascending (``torch.linalg.eigvalsh``)."""
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with A = U diag(S) Vh, singular values descending, as
    ``torch.linalg.svd``; only the reduced form (``full_matrices=False``) is supported,
    and all three are differentiable (PyTorch's gradient)."""
    if full_matrices:
        raise NotImplementedError("linalg.svd: only full_matrices=False (the reduced SVD) "
                                  "is supported; pass full_matrices=False")
    A = _tensor(A)
    packed = ops.Svd.apply(A)
    return _return_types.svd(*ops.Svd.unpack(packed, _svd_shapes(A.shape)))


def _svd_shapes(shape) -> tuple:
    m, n = shape[-2:]
    k = min(m, n)
    batch = tuple(shape[:-2])
    return batch + (m, k), batch + (k,), batch + (k, n)


def qr(A, mode="reduced"):
    """``(Q, R)`` with A = Q R, as ``torch.linalg.qr`` in its default ``"reduced"`` mode
    (the signs are LAPACK's, as PyTorch's on the CPU); both are differentiable. A wide
    matrix [X | Y] is Q R of X joined by Q^T Y (what Householder QR computes), so its
    gradient comes from the square case."""
    if mode != "reduced":
        raise NotImplementedError(f"linalg.qr: mode={mode!r} is not supported; use the "
                                  "default mode='reduced'")
    A = _tensor(A)
    if A.ndim < 2:
        raise ValueError(f"linalg.qr: expected a matrix or a batch of them, got shape "
                         f"{A.shape}")
    m, n = A.shape[-2:]
    if m < n:
        q, r = qr(A[..., :m])
        return _return_types.qr(q, ops.Cat.apply(r, q.mT @ A[..., m:], axis=-1))
    k = min(m, n)
    packed = ops.Qr.apply(A)
    return _return_types.qr(*ops.Qr.unpack(packed, (A.shape[:-2] + (m, k),
                                                    A.shape[:-2] + (k, n))))


def svdvals(A) -> Tensor:
    """The singular values, descending (``torch.linalg.svdvals``)."""
    return svd(A, full_matrices=False).S


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all elements by default): 2, 1, inf, -inf,
    0 or any other number."""
    x = _tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r} (use "
                         "matrix_norm for 'fro' and 'nuc')")
    return ops.Norm.apply(x, ord, _dims(dim), keepdim)


def _dims(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None) -> Tensor:
    """'fro', 1, -1 (largest / smallest absolute column sum), inf, -inf (row sums) over
    the two axes ``dim``. The spectral norms (2, -2, 'nuc') are not supported."""
    A = _tensor(A)
    if dtype is not None:
        A = A.to(dtype)
    dim = tuple(dim)
    if len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must name two dimensions, got {dim}")
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected a tensor with at least 2 dimensions, "
                         f"got shape {A.shape}")
    rows, cols = (a % A.ndim for a in dim)
    if ord == "fro":
        return ops.Norm.apply(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} (singular values) is not "
                                  "supported; use 'fro', 1, -1, inf or -inf")
    if ord in (1, -1, math.inf, -math.inf):
        summed_axis, reduced_axis = (rows, cols) if abs(ord) == 1 else (cols, rows)
        sums = A.abs().sum(dim=summed_axis, keepdim=True)
        out = sums.amax(reduced_axis, keepdim=True) if ord > 0 else \
            sums.amin(reduced_axis, keepdim=True)
        return out if keepdim else out.squeeze(dim=(rows, cols))
    raise ValueError(f"linalg.matrix_norm: unknown ord {ord!r}; use 'fro', 1, -1, inf or -inf")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: with ``ord=None`` the 2-norm of the flattened tensor (or
    over an int ``dim``) or the Frobenius norm over a 2-tuple ``dim``; with ``ord`` a
    vector norm for 1-D input / int dim, a matrix norm for 2-D input / 2-tuple dim."""
    A = _tensor(A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise ValueError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D "
                             f"or 2-D, got shape {A.shape}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def einsum(equation, *operands) -> Tensor:
    """``torch.einsum("ij,jk->ik", a, b)`` (operands may also come as one list);
    ``...`` and the implicit output form are supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return ops.Einsum.apply(equation, *[_tensor(x) for x in operands])


def tensordot(a, b, dims=2) -> Tensor:
    """Sum over the last ``dims`` axes of ``a`` and the first of ``b``, or over the
    listed pairs ``dims=([a axes], [b axes])``."""
    a, b = _tensor(a), _tensor(b)
    if isinstance(dims, int):
        if dims < 0:
            raise ValueError(f"tensordot: dims must be >= 0, got {dims}")
        axes_a = list(range(a.ndim - dims, a.ndim))
        axes_b = list(range(dims))
    else:
        axes_a, axes_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: dims {dims} pair {len(axes_a)} axes of a with "
                         f"{len(axes_b)} of b")
    axes_a = [d % a.ndim for d in axes_a]
    axes_b = [d % b.ndim for d in axes_b]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    subs_a = [next(letters) for _ in range(a.ndim)]
    subs_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: dimension {i} of a (size {a.shape[i]}) and "
                             f"dimension {j} of b (size {b.shape[j]}) differ")
        subs_b[j] = subs_a[i]
    out = [s for i, s in enumerate(subs_a) if i not in axes_a] + \
        [s for j, s in enumerate(subs_b) if j not in axes_b]
    return einsum("".join(subs_a) + "," + "".join(subs_b) + "->" + "".join(out), a, b)


def matmul(a, b) -> Tensor:
    return _tensor(a) @ b
