"""Contractions and linear algebra: einsum (which tensordot and bmm build on), solve,
inv, det, slogdet, cholesky, eigh, and the reduced svd and qr, each differentiable to any order (``differentiable_backward`` repeats the
formula with Tensor ops)."""

from __future__ import annotations

import string

import numpy as np

from ..autograd import ArrayFunction
from .common import quiet_numpy

__all__ = ["Einsum", "Solve", "Inv", "Det", "LogAbsDet", "Cholesky", "Eigh", "Svd", "Qr",
           "parse_einsum"]


# --------------------------------------------------------------------------- einsum

def parse_einsum(equation: str, shapes: list) -> tuple:
    """``(input subscripts, output subscripts)`` of ``equation`` with every ``...``
    spelled out as letters unused elsewhere, and the implicit output (letters that
    appear once, sorted) made explicit, as ``torch.einsum`` reads it."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {equation!r}")
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operand(s) "
                         f"but {len(shapes)} were given")
    used = set(c for c in equation if c.isalpha())
    for c in equation:
        if not (c.isalpha() or c in ",.->"):
            raise ValueError(f"einsum: invalid character {c!r} in {equation!r}; use letters, "
                             "',', '->' and '...'")
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = max([len(shape) - len(subs.replace("...", ""))
                         for subs, shape in zip(inputs, shapes) if "..." in subs] or [0])
    ellipsis = "".join(spare[:ellipsis_rank])
    expanded = []
    for subs, shape in zip(inputs, shapes):
        if "..." in subs:
            rank = len(shape) - len(subs.replace("...", ""))
            subs = subs.replace("...", ellipsis[ellipsis_rank - rank:] if rank else "")
        if len(subs) != len(shape) or "." in subs:
            raise ValueError(f"einsum: subscripts {subs!r} do not fit an operand of shape "
                             f"{tuple(shape)} (one letter per dimension)")
        expanded.append(subs)
    if arrow:
        if "..." in rhs:
            rhs = rhs.replace("...", ellipsis)
        output = rhs
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(letters)
                                           if letters.count(c) == 1 and c not in ellipsis))
    return expanded, output, spare[ellipsis_rank:]


def _operand_gradient_plan(i: int, subs: list, output: str, sizes: dict, spare: list):
    """How to get operand i's gradient as one einsum: the output gradient and the other
    operands, plus a ones vector for each letter only operand i has (the gradient does
    not depend on it) and an identity matrix for each repeated letter (a diagonal).
    Returns (equation, [extra constant arrays as (kind, size)])."""
    others = [s for j, s in enumerate(subs) if j != i]
    present = set(output).union(*others)
    target, extras, spare = [], [], list(spare)
    seen = set()
    for c in subs[i]:
        if c in seen:  # a repeated letter: a fresh one tied to c by an identity matrix
            fresh = spare.pop(0)
            extras.append((c + fresh, ("eye", sizes[c])))
            target.append(fresh)
            continue
        seen.add(c)
        target.append(c)
        if c not in present:
            extras.append((c, ("ones", sizes[c])))
            present.add(c)
    operands = [output] + others + [letters for letters, _ in extras]
    return ",".join(operands) + "->" + "".join(target), [kind for _, kind in extras]


def _constant_array(kind, dtype):
    name, size = kind
    return np.eye(size, dtype=dtype) if name == "eye" else np.ones(size, dtype=dtype)


class Einsum(ArrayFunction):
    """``torch.einsum``; each operand's gradient is itself an einsum."""

    @staticmethod
    def forward(ctx, equation, *operands):
        shapes = [np.shape(x) for x in operands]
        subs, output, spare = parse_einsum(equation, shapes)
        sizes = {}
        for letters, shape in zip(subs, shapes):
            for c, n in zip(letters, shape):
                if sizes.get(c, 1) not in (1, n) and n != 1:
                    raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} in one "
                                     f"operand and {n} in another (shapes {shapes}, "
                                     f"equation {equation!r})")
                sizes[c] = max(sizes.get(c, 1), n)
        ctx.plan = (subs, output, sizes, spare)
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(",".join(subs) + "->" + output, *operands))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        subs, output, sizes, spare = ctx.plan
        grads = [None]
        for i, needed in enumerate(ctx.needs_input_grad[1:]):
            if not needed:
                grads.append(None)
                continue
            equation, extras = _operand_gradient_plan(i, subs, output, sizes, spare)
            others = [x for j, x in enumerate(operands) if j != i]
            constants = [_constant_array(kind, grad.dtype) for kind in extras]
            grads.append(np.einsum(equation, grad, *others, *constants))
        return tuple(grads)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output_tensor):
        subs, output, sizes, spare = ctx.plan
        operands = inputs[1:]
        grads = [None]
        for i, needed in enumerate(ctx.needs_input_grad[1:]):
            if not needed:
                grads.append(None)
                continue
            equation, extras = _operand_gradient_plan(i, subs, output, sizes, spare)
            others = [x for j, x in enumerate(operands) if j != i]
            constants = [grad._make(_constant_array(kind, grad.data.dtype), False)
                         for kind in extras]
            grads.append(Einsum.apply(equation, grad, *others, *constants))
        return tuple(grads)


# --------------------------------------------------------------------------- solve, inv, det

def _check_square(op: str, a) -> None:
    if np.ndim(a) < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: expected a square matrix or a batch of them (shape "
                         f"(*, n, n)), got shape {np.shape(a)}")
    if a.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {a.dtype}; "
                        "convert it first, e.g. A.double()")


def _singular(op: str, shape) -> RuntimeError:
    return RuntimeError(f"{op}: the input matrix (shape {tuple(shape)}) is singular, so the "
                        "system has no unique solution; check it for dependent rows or use "
                        "torch.linalg.lstsq / pinv")


def _is_vector_rhs(a_shape, b_shape) -> bool:
    """torch.linalg.solve's rule: B is a (batch of) vector(s) when it is 1-D or has the
    shape of A without its last axis."""
    return len(b_shape) == 1 or tuple(b_shape) == tuple(a_shape[:-1])


def solve_array(a, b, vector: bool):
    try:
        if vector:
            return np.linalg.solve(a, b[..., None])[..., 0]
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise _singular("linalg.solve", a.shape) from None


def _mT(x):
    return np.swapaxes(x, -1, -2)


class Solve(ArrayFunction):
    """X with A X = B (``torch.linalg.solve``); gradients gB = A^-T G, gA = -gB X^T."""

    @staticmethod
    def forward(ctx, a, b):
        _check_square("linalg.solve", a)
        vector = _is_vector_rhs(a.shape, b.shape)
        if (b.shape[-1] if vector else b.shape[-2] if b.ndim >= 2 else -1) != a.shape[-1]:
            raise ValueError(f"linalg.solve: A of shape {a.shape} and B of shape {b.shape} "
                             f"do not fit: B needs {a.shape[-1]} rows")
        out = solve_array(a, b, vector)
        ctx.save_for_backward(a, out)
        ctx.vector = vector
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        grad_b = solve_array(_mT(a), grad, ctx.vector)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = -(grad_b[..., :, None] * out[..., None, :]) if ctx.vector else \
                -(grad_b @ _mT(out))
        return grad_a, grad_b

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        a = inputs[0]
        grad_b = Solve.apply(a.mT, grad)
        grad_a = -(grad_b.unsqueeze(-1) * output.unsqueeze(-2)) if ctx.vector else \
            -(grad_b @ output.mT)
        return grad_a, grad_b


class Inv(ArrayFunction):
    """A^-1 (``torch.linalg.inv``); gradient -A^-T G A^-T."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.inv", a)
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("linalg.inv", a.shape) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -(_mT(out) @ grad @ _mT(out))

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return -(output.mT @ grad @ output.mT)


class Det(ArrayFunction):
    """det(A) (``torch.linalg.det``); the gradient is G times the cofactor matrix,
    computed through the SVD so that it is right for singular matrices too."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.det", a)
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.det(a))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        u, s, vh = np.linalg.svd(a)
        n = s.shape[-1]
        # product of all singular values but the i-th, without dividing by s_i
        others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)],
                          axis=-1) if n > 1 else np.ones_like(s)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        cofactor = (u * others[..., None, :]) @ vh * sign[..., None, None]
        return (np.asarray(grad)[..., None, None] * cofactor).astype(a.dtype, copy=False)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        a = inputs[0]
        return (grad * output).unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


class LogAbsDet(ArrayFunction):
    """log |det(A)| (the ``logabsdet`` of ``torch.linalg.slogdet``); gradient G A^-T."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.slogdet", a)
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.slogdet(a)[1])

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        try:
            inverse = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("linalg.slogdet backward", a.shape) from None
        return np.asarray(grad)[..., None, None] * _mT(inverse)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad.unsqueeze(-1).unsqueeze(-1) * Inv.apply(inputs[0]).mT


def _lower_with_half_diagonal(n: int, dtype) -> np.ndarray:
    return (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(dtype)


class Cholesky(ArrayFunction):
    """The lower Cholesky factor L of a symmetric positive-definite A = L L^T
    (``torch.linalg.cholesky``; only A's lower triangle is read). Gradient as PyTorch's:
    L^-T Phi(L^T G) L^-1, symmetrised, where Phi keeps the lower triangle and halves
    the diagonal."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.cholesky", a)
        lower = np.tril(a)
        symmetric = lower + np.swapaxes(np.tril(a, -1), -1, -2)
        try:
            out = np.linalg.cholesky(symmetric)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                f"linalg.cholesky: The factorization could not be completed because the "
                f"input (shape {a.shape}) is not positive-definite; check that it is "
                "symmetric with positive eigenvalues (e.g. A @ A.mT + eps * I)") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (lower,) = ctx.saved_tensors
        inverse = np.linalg.inv(lower)
        phi = (_mT(lower) @ grad) * _lower_with_half_diagonal(lower.shape[-1], grad.dtype)
        grad_a = _mT(inverse) @ phi @ inverse
        return 0.5 * (grad_a + _mT(grad_a))

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .common import constant

        inverse = Inv.apply(output)
        mask = constant(_lower_with_half_diagonal(output.shape[-1], grad.dtype))
        grad_a = inverse.mT @ ((output.mT @ grad) * mask) @ inverse
        return 0.5 * (grad_a + grad_a.mT)


def _eigh_gradient(values, vectors, grad_values, grad_vectors, transpose, eye):
    """PyTorch's eigh gradient: V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T, written
    once for arrays and Tensors (``transpose`` swaps the last two axes, ``eye`` is the
    identity in the gradient's dtype, as an array or a constant Tensor)."""
    inner = transpose(vectors) @ grad_vectors
    inner = 0.5 * (inner - transpose(inner))  # the skew part; its diagonal is 0
    gaps = values[..., None, :] - values[..., :, None] + eye
    inner = inner / gaps + grad_values[..., :, None] * eye
    return vectors @ inner @ transpose(vectors)


class Eigh(ArrayFunction):
    """The eigen-decomposition of a symmetric matrix (only its lower triangle is read,
    as ``torch.linalg.eigh`` with UPLO='L'), packed as one array of shape (..., n + 1,
    n): row 0 the eigenvalues in ascending order, rows 1.. the eigenvectors as columns
    (so that one op carries both outputs; :func:`tinygrad_fm.linalg.eigh` unpacks it).
    The gradient is PyTorch's: undefined (inf) for repeated eigenvalues."""

    @staticmethod
    def forward(ctx, a):
        _check_square("linalg.eigh", a)
        values, vectors = np.linalg.eigh(a, UPLO="L")
        out = np.concatenate([values[..., None, :], vectors], axis=-2)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        eye = np.eye(out.shape[-1], dtype=grad.dtype)
        with quiet_numpy():
            return _eigh_gradient(out[..., 0, :], out[..., 1:, :], grad[..., 0, :],
                                  grad[..., 1:, :], _mT, eye)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .common import constant

        eye = constant(np.eye(output.shape[-1], dtype=grad.dtype))
        return _eigh_gradient(output[..., 0, :], output[..., 1:, :], grad[..., 0, :],
                              grad[..., 1:, :], lambda t: t.mT, eye)


def _svd_gradient(u, s, vh, grad_u, grad_s, grad_vh, transpose, eye):
    """PyTorch's gradient of the reduced SVD A = U diag(S) Vh (real case), written once
    for arrays and Tensors: U [(skew(U^T gU) S + S skew(V^T gV)) / (S_k^2 - S_j^2) +
    diag(gS)] Vh, plus the parts of gU and gV outside the spans of U and V for
    rectangular A. Undefined (inf) for repeated singular values, as PyTorch's."""
    m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
    v, grad_v = transpose(vh), transpose(grad_vh)
    inner_u, inner_v = transpose(u) @ grad_u, vh @ grad_v
    squares = s * s
    gaps = squares[..., None, :] - squares[..., :, None] + eye
    inner = ((inner_u - transpose(inner_u)) * s[..., None, :]
             + s[..., :, None] * (inner_v - transpose(inner_v))) / gaps + grad_s[..., :, None] * eye
    if m > k:
        inner = u @ inner
        scaled = grad_u / s[..., None, :]
        return (inner + scaled - u @ (transpose(u) @ scaled)) @ vh
    if n > k:
        inner = inner @ vh
        scaled = transpose(grad_v) / s[..., :, None]
        return u @ (inner + scaled - (scaled @ v) @ vh)
    return u @ inner @ vh


class Svd(ArrayFunction):
    """The reduced singular value decomposition A = U diag(S) Vh (``torch.linalg.svd``
    with ``full_matrices=False``), packed as one array (..., m k + k + k n) of U, S and
    Vh flattened (one op carries the three outputs; :func:`tinygrad_fm.linalg.svd`
    unpacks them). Singular values descending; signs are LAPACK's."""

    @staticmethod
    def forward(ctx, a):
        if np.ndim(a) < 2:
            raise ValueError(f"linalg.svd: expected a matrix or a batch of them, got shape "
                             f"{np.shape(a)}")
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        batch = a.shape[:-2]
        ctx.shapes = (u.shape, s.shape, vh.shape)
        out = np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))],
                             axis=-1)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def unpack(packed, shapes):
        """U, S, Vh from the packed array or Tensor."""
        (m, k), (n,) = shapes[0][-2:], shapes[2][-1:]
        batch = tuple(packed.shape[:-1])
        return (packed[..., :m * k].reshape(batch + (m, k)),
                packed[..., m * k:m * k + k],
                packed[..., m * k + k:].reshape(batch + (k, n)))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        eye = np.eye(ctx.shapes[1][-1], dtype=grad.dtype)
        with quiet_numpy():
            return _svd_gradient(*Svd.unpack(out, ctx.shapes), *Svd.unpack(grad, ctx.shapes),
                                 _mT, eye)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .common import constant

        eye = constant(np.eye(ctx.shapes[1][-1], dtype=grad.dtype))
        return _svd_gradient(*Svd.unpack(output, ctx.shapes), *Svd.unpack(grad, ctx.shapes),
                             lambda t: t.mT, eye)


def _qr_gradient(q, r, grad_q, grad_r, transpose, inverse, tril):
    """The gradient of the reduced QR of a tall or square A = Q R (m >= n): with M =
    R gR^T - gQ^T Q, gA = (gQ + Q copyltu(M)) R^-T, copyltu mirroring M's lower
    triangle onto its upper one; written once for arrays and Tensors."""
    m = r @ transpose(grad_r) - transpose(grad_q) @ q
    return (grad_q + q @ (tril(m, 0) + transpose(tril(m, -1)))) @ transpose(inverse(r))


class Qr(ArrayFunction):
    """The reduced QR decomposition of a tall or square matrix A = Q R (Q with
    orthonormal columns, R upper triangular; ``torch.linalg.qr``), packed as one array
    (..., m n + n n) of Q and R flattened. Wide matrices are handled by
    :func:`tinygrad_fm.linalg.qr` from the QR of their leading square block."""

    @staticmethod
    def forward(ctx, a):
        if np.ndim(a) < 2 or a.shape[-2] < a.shape[-1]:
            raise ValueError(f"linalg.qr: expected a tall or square matrix here, got shape "
                             f"{np.shape(a)}")
        q, r = np.linalg.qr(a)
        batch = a.shape[:-2]
        ctx.shapes = (q.shape, r.shape)
        out = np.concatenate([q.reshape(batch + (-1,)), r.reshape(batch + (-1,))], axis=-1)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def unpack(packed, shapes):
        m, n = shapes[0][-2:]
        batch = tuple(packed.shape[:-1])
        return (packed[..., :m * n].reshape(batch + (m, n)),
                packed[..., m * n:].reshape(batch + (n, n)))

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with quiet_numpy():
            return _qr_gradient(*Qr.unpack(out, ctx.shapes), *Qr.unpack(grad, ctx.shapes),
                                _mT, np.linalg.inv, np.tril)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return _qr_gradient(*Qr.unpack(output, ctx.shapes), *Qr.unpack(grad, ctx.shapes),
                            lambda t: t.mT, Inv.apply, lambda t, k: t.tril(k))
