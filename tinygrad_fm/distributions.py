"""``torch.distributions``: the distributions everyday models use, as PyTorch's.

``Normal``, ``Uniform``, ``Bernoulli`` and ``Categorical`` with ``sample``, ``rsample``
(the reparameterised sample, differentiable in the parameters: Normal and Uniform),
``log_prob``, ``entropy``, ``mean``, ``variance``, ``stddev``, ``batch_shape`` and
``event_shape``; and ``kl_divergence(p, q)`` between two of the same family. Everything
is written with Tensor ops, so ``log_prob`` and ``entropy`` are differentiable in the
parameters (a policy gradient, a VAE's KL term). Samples come from the framework's
generator (``torch.manual_seed``): the same distribution as PyTorch's, not the same
numbers. Parameters are checked as PyTorch's ``validate_args`` does by default.
"""

from __future__ import annotations

import math

import numpy as np

from . import creation
from .autograd import no_grad
from .dtypes import finfo
from .nn import functional as F
from .tensor import DEFAULT_DTYPE, Tensor, where

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "kl_divergence"]


def _as_tensors(*values):
    """The parameters as Tensors of one shape (broadcast) and one float dtype: that of the
    Tensors among them (the default dtype when all are numbers), as PyTorch's
    ``broadcast_all``."""
    dtypes = [v.dtype for v in values if isinstance(v, Tensor)]
    dtype = dtypes[0] if dtypes else DEFAULT_DTYPE
    tensors = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=dtype))
               for v in values]
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return [t if t.shape == shape else t.expand(*shape) for t in tensors]


def _check(ok, name: str, value, constraint: str, cls) -> None:
    if not bool(np.all(ok)):
        raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape "
                         f"{tuple(np.shape(value))}) of distribution {cls.__name__} to "
                         f"satisfy the constraint {constraint}, but found invalid values")


def _value(value, dtype=None) -> Tensor:
    """A ``log_prob`` argument as a Tensor (an array or number in ``dtype``)."""
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype))


class Distribution:
    """The base class: shapes, ``sample`` from ``rsample``, ``stddev`` from
    ``variance``."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=()):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()) -> Tensor:
        """A sample of shape ``sample_shape + batch_shape + event_shape``, not
        differentiable."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample "
                                  "(rsample); use sample()")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        parameters = ", ".join(f"{name}: {getattr(self, name).shape}"
                               for name in self._parameter_names)
        return f"{type(self).__name__}({parameters})"


class Normal(Distribution):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``."""

    has_rsample = True
    _parameter_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _as_tensors(loc, scale)
        if validate_args is not False:
            _check(self.scale.data > 0, "scale", scale, "GreaterThan(lower_bound=0.0)",
                   Normal)
        super().__init__(self.loc.shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape=()) -> Tensor:
        noise = creation.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + noise * self.scale

    def log_prob(self, value) -> Tensor:
        value = _value(value, self.loc.dtype)
        return (-((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Distribution):
    """The uniform distribution on the half-open interval ``[low, high)``."""

    has_rsample = True
    _parameter_names = ("low", "high")

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _as_tensors(low, high)
        if validate_args is not False:
            _check(self.low.data < self.high.data, "low", low, "LessThan(upper_bound=high)",
                   Uniform)
        super().__init__(self.low.shape)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()) -> Tensor:
        unit = creation.rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + unit * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = _value(value, self.low.dtype)
        inside = (self.low <= value).type_as(self.low) * (self.high > value).type_as(self.low)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


def _probs_or_logits(probs, logits, cls) -> tuple:
    if (probs is None) == (logits is None):
        raise ValueError(f"{cls.__name__}: give either probs or logits, not both nor "
                         "neither")
    given = probs if probs is not None else logits
    return (given if isinstance(given, Tensor) else
            Tensor(np.asarray(given, dtype=DEFAULT_DTYPE))), probs is not None


def _clamped(probs: Tensor) -> Tensor:
    """Probabilities kept inside (eps, 1 - eps) before a logarithm, as PyTorch's
    ``clamp_probs``."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(eps, 1 - eps)


class Bernoulli(Distribution):
    """Independent coin flips, 1 with probability ``probs`` (or ``sigmoid(logits)``)."""

    _parameter_names = ("probs",)

    def __init__(self, probs=None, logits=None, validate_args=None):
        given, from_probs = _probs_or_logits(probs, logits, Bernoulli)
        if from_probs:
            if validate_args is not False:
                _check((given.data >= 0) & (given.data <= 1), "probs", probs,
                       "Interval(lower_bound=0.0, upper_bound=1.0)", Bernoulli)
            self.probs = given
            clamped = _clamped(given)
            self.logits = clamped.log() - (-clamped).log1p()
        else:
            self.logits = given
            self.probs = given.sigmoid()
        super().__init__(given.shape)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return creation.bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value) -> Tensor:
        value = _value(value, self.probs.dtype)
        logits, value = _as_tensors(self.logits, value.type_as(self.logits))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """One of K classes (the last axis of ``probs`` or ``logits``), indexed 0..K-1;
    ``probs`` need not sum to 1 (they are normalised), nor ``logits`` be normalised."""

    _parameter_names = ("probs",)

    def __init__(self, probs=None, logits=None, validate_args=None):
        given, from_probs = _probs_or_logits(probs, logits, Categorical)
        if given.ndim == 0:
            raise ValueError("Categorical: probs or logits need at least one dimension, "
                             "the classes (the last one)")
        if from_probs:
            if validate_args is not False:
                _check((given.data >= 0).all() and (given.data.sum(-1) > 0).all(), "probs",
                       probs, "Simplex()", Categorical)
            self.probs = given / given.sum(-1, keepdim=True)
            self.logits = _clamped(self.probs).log()
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1])

    @property
    def mean(self) -> Tensor:
        return creation.full(self._batch_shape, float("nan"), dtype=self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.mean

    def sample(self, sample_shape=()) -> Tensor:
        count = int(np.prod(sample_shape, dtype=np.int64))
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            drawn = creation.multinomial(rows, count, replacement=True)  # (rows, count)
            return drawn.transpose(0, 1).reshape(*self._extended_shape(sample_shape))

    def log_prob(self, value) -> Tensor:
        value = _value(value)
        if value.dtype.kind not in "iu":
            raise ValueError(f"Categorical.log_prob: value must hold class indices "
                             f"(integers), got dtype {value.dtype}")
        if value.numel() and (value.data.min() < 0 or value.data.max() >= self._num_events):
            raise ValueError(f"Categorical.log_prob: value holds an index outside "
                             f"0..{self._num_events - 1}")
        shape = np.broadcast_shapes(value.shape, self._batch_shape)
        index = value.long().broadcast_to(shape).unsqueeze(-1)
        logits = self.logits.broadcast_to(shape + (self._num_events,))
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for two distributions of the same family, batch-wise."""
    rule = _KL.get((type(p), type(q)))
    if rule is None:
        raise NotImplementedError(f"kl_divergence: no rule for {type(p).__name__} against "
                                  f"{type(q).__name__} (rules exist for Normal, Uniform, "
                                  "Bernoulli and Categorical against their own family)")
    return rule(p, q)


def _kl_normal(p: Normal, q: Normal) -> Tensor:
    variance_ratio = (p.scale / q.scale) ** 2
    squared_distance = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (variance_ratio + squared_distance - 1 - variance_ratio.log())


def _kl_uniform(p: Uniform, q: Uniform) -> Tensor:
    kl = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low.data > p.low.data) | (q.high.data < p.high.data)
    return where(Tensor(outside), Tensor(np.array(np.inf, kl.dtype)), kl)


def _kl_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    infinity = Tensor(np.array(np.inf, p.probs.dtype))
    zero = Tensor(np.array(0.0, p.probs.dtype))
    ones_term = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    ones_term = where(Tensor(p.probs.data == 0), zero,
                      where(Tensor(q.probs.data == 0), infinity, ones_term))
    zeros_term = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    zeros_term = where(Tensor(p.probs.data == 1), zero,
                       where(Tensor(q.probs.data == 1), infinity, zeros_term))
    return ones_term + zeros_term


def _kl_categorical(p: Categorical, q: Categorical) -> Tensor:
    terms = p.probs * (p.logits - q.logits)
    terms = where(Tensor(np.broadcast_to(q.probs.data == 0, terms.shape)),
                  Tensor(np.array(np.inf, terms.dtype)), terms)
    terms = where(Tensor(np.broadcast_to(p.probs.data == 0, terms.shape)),
                  Tensor(np.array(0.0, terms.dtype)), terms)
    return terms.sum(-1)


_KL = {(Normal, Normal): _kl_normal, (Uniform, Uniform): _kl_uniform,
       (Bernoulli, Bernoulli): _kl_bernoulli, (Categorical, Categorical): _kl_categorical}
