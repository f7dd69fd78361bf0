"""``torch.special``: PyTorch's names for the special and probability functions (the
same functions as the Tensor methods and ``torch.*`` forms they call)."""

from __future__ import annotations

from .functions import _tensor, polygamma
from .tensor import Tensor

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "xlogy", "gammaln", "digamma", "psi",
           "polygamma", "log_softmax", "softmax", "logsumexp", "log1p", "expm1"]


def expit(input) -> Tensor:
    """The logistic sigmoid."""
    return _tensor(input).sigmoid()


def logit(input, eps=None) -> Tensor:
    return _tensor(input).logit(eps)


def erf(input) -> Tensor:
    return _tensor(input).erf()


def erfc(input) -> Tensor:
    return _tensor(input).erfc()


def erfinv(input) -> Tensor:
    return _tensor(input).erfinv()


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where input is 0; either may be a number."""
    if not isinstance(input, Tensor):
        other = _tensor(other)
        input = Tensor(input, dtype=other.dtype if other.dtype.kind == "f" else None)
    return input.xlogy(other)


def gammaln(input) -> Tensor:
    """log |Gamma(x)| (``torch.lgamma``)."""
    return _tensor(input).lgamma()


def digamma(input) -> Tensor:
    return _tensor(input).digamma()


psi = digamma


def log_softmax(input, dim, *, dtype=None) -> Tensor:
    input = _tensor(input)
    return (input if dtype is None else input.to(dtype)).log_softmax(dim=dim)


def softmax(input, dim, *, dtype=None) -> Tensor:
    input = _tensor(input)
    return (input if dtype is None else input.to(dtype)).softmax(dim=dim)


def logsumexp(input, dim, keepdim=False) -> Tensor:
    return _tensor(input).logsumexp(dim=dim, keepdim=keepdim)


def log1p(input) -> Tensor:
    return _tensor(input).log1p()


def expm1(input) -> Tensor:
    return _tensor(input).expm1()
